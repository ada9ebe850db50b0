import { expect } from "chai";
import type { ConversationSummary, UserPresence } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, collect, send, sendOk } from "./support/messaging";
import { arrived } from "./support/wait";
import { createUser } from "./support/users";

function expectDenied(answer: { ok: boolean; error?: { code: string } }) {
  expect(answer.ok, JSON.stringify(answer)).to.equal(false);
  expect(answer.error?.code).to.equal("PERMISSION_DENIED");
}

describe("blocking", () => {
  it("a blocked user is refused with PERMISSION_DENIED on each path; the blocker's group messages stay visible", async () => {
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const dm = await sendOk(b.socket, { recipientId: alice.uid, content: "before the block" });
    const { conversation: group } = await callOk<{ conversation: ConversationSummary }>(c.socket, "create_group", { name: "g", memberIds: [alice.uid, bob.uid] });
    const { conversation: bobsGroup } = await callOk<{ conversation: ConversationSummary }>(b.socket, "create_group", { name: "bob's", memberIds: [carol.uid] });

    await callOk(a.socket, "block_user", { userId: bob.uid });

    expectDenied(await send(b.socket, { recipientId: alice.uid, content: "hello?" }));
    expectDenied(await send(b.socket, { conversationId: dm.conversationId, content: "hello?" }));
    expectDenied(await call(b.socket, "create_group", { name: "with alice", memberIds: [alice.uid, carol.uid] }));
    expectDenied(await call(b.socket, "add_members", { conversationId: bobsGroup.id, memberIds: [alice.uid] }));
    const { presence } = await callOk<{ presence: UserPresence[] }>(b.socket, "get_presence", { userIds: [alice.uid, carol.uid] });
    expect(presence.find((p) => p.userId === alice.uid)).to.deep.equal({ userId: alice.uid, status: "offline" });
    expect(presence.find((p) => p.userId === carol.uid)?.status).to.equal("online");
    const { presence: followed } = await callOk<{ presence: UserPresence[] }>(b.socket, "presence_subscribe", { userIds: [alice.uid] });
    expect(followed[0].status).to.equal("offline");

    const bobsInbox = collect(b.socket);
    await sendOk(a.socket, { conversationId: group.id, content: "group message from alice" });
    expect((await arrived(bobsInbox, 1))[0]).to.include({ senderId: alice.uid, content: "group message from alice" });
    const { userIds } = await callOk<{ userIds: string[] }>(a.socket, "list_blocked", {});
    expect(userIds).to.deep.equal([bob.uid]);
  });

  it("the blocker cannot message the blocked user either until it unblocks; unblocking reopens the conversation", async () => {
    const [alice, bob] = await Promise.all(["alice", "bob"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    await callOk(a.socket, "block_user", { userId: bob.uid });

    const refused = await send(a.socket, { recipientId: bob.uid });
    await callOk(a.socket, "unblock_user", { userId: bob.uid });
    const inbox = collect(a.socket);
    await sendOk(b.socket, { recipientId: alice.uid, content: "unblocked" });

    expectDenied(refused);
    expect((await arrived(inbox, 1))[0].content).to.equal("unblocked");
    expect((await callOk<{ userIds: string[] }>(a.socket, "list_blocked", {})).userIds).to.deep.equal([]);
  });

  it("a block made on one instance is enforced at once on another that had the lists cached", async () => {
    const [alice, bob] = await Promise.all(["alice", "bob"].map((name) => createUser({ name })));
    const one = await startGateway({ blockListCacheMs: 600_000 });
    const two = await startGateway({ blockListCacheMs: 600_000 });
    const a = await connectAs(one.url, alice.idToken);
    const b = await connectAs(two.url, bob.idToken);
    await sendOk(b.socket, { recipientId: alice.uid, content: "cached: nobody blocked" });

    await callOk(a.socket, "block_user", { userId: bob.uid });
    let answer = await send(b.socket, { recipientId: alice.uid, content: "after the block" });
    for (let i = 0; i < 50 && answer.ok; i += 1) {
      // serverSideEmit reaches the other instance asynchronously; a send racing it may still pass.
      await new Promise((r) => setTimeout(r, 20));
      answer = await send(b.socket, { recipientId: alice.uid, content: "after the block" });
    }

    expectDenied(answer);
  });

  it("bad input: blocking yourself is INVALID_ARGUMENT, an unknown user NOT_FOUND", async () => {
    const alice = await createUser({ name: "alice" });
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);

    const self = await call(a.socket, "block_user", { userId: alice.uid });
    const unknown = await call(a.socket, "block_user", { userId: "no-such-user" });
    const wrongType = await call(a.socket, "block_user", { userId: 7 });

    expect(self.ok === false && self.error.code).to.equal("INVALID_ARGUMENT");
    expect(unknown.ok === false && unknown.error.code).to.equal("NOT_FOUND");
    expect(wrongType.ok === false && wrongType.error.code).to.equal("INVALID_ARGUMENT");
  });
});

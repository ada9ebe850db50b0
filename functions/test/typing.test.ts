import { expect } from "chai";
import type { ConversationSummary, TypingPayload } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, collect, sendOk, settle, until } from "./support/messaging";
import { createUser } from "./support/users";

describe("typing indicators", () => {
  it("reach the other members of the conversation only, never the typist or outsiders", async () => {
    const [owner, member, outsider] = await Promise.all(["owner", "member", "outsider"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const o = await connectAs(url, owner.idToken);
    const m = await connectAs(url, member.idToken);
    const x = await connectAs(url, outsider.idToken);
    const seen = { owner: collect<TypingPayload>(o.socket, "typing"), member: collect<TypingPayload>(m.socket, "typing"), outsider: collect<TypingPayload>(x.socket, "typing") };
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [member.uid] });

    await callOk(o.socket, "typing_start", { conversationId: conversation.id });
    await until(seen.member, 1);
    await callOk(o.socket, "typing_stop", { conversationId: conversation.id });
    await until(seen.member, 2);
    await settle();

    expect(seen.member.map((t) => t.isTyping)).to.deep.equal([true, false]);
    expect(seen.member[0]).to.include({ conversationId: conversation.id, userId: owner.uid });
    expect(seen.owner).to.have.length(0);
    expect(seen.outsider).to.have.length(0);
  });

  it("end by themselves when not refreshed", async () => {
    const alice = await createUser({ name: "alice" });
    const bob = await createUser({ name: "bob" });
    const { url } = await startGateway({ typingTtlMs: 300 });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const seen = collect<TypingPayload>(b.socket, "typing");
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    await callOk(a.socket, "typing_start", { conversationId });

    await until(seen, 2, 3_000);
    expect(seen.map((t) => t.isTyping)).to.deep.equal([true, false]);
    expect(seen[0].expiresInMs).to.equal(300);
  });

  it("stop when the typist disconnects", async () => {
    const alice = await createUser({ name: "alice" });
    const bob = await createUser({ name: "bob" });
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const seen = collect<TypingPayload>(b.socket, "typing");
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    await callOk(a.socket, "typing_start", { conversationId });
    await until(seen, 1);
    a.socket.disconnect();

    expect((await until(seen, 2))[1].isTyping).to.equal(false);
  });

  it("are never stored and are refused outside one's conversations", async () => {
    const [alice, bob, eve] = await Promise.all(["alice", "bob", "eve"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const e = await connectAs(url, eve.idToken);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    const answer = await call(e.socket, "typing_start", { conversationId });
    await callOk(a.socket, "typing_start", { conversationId });
    const history = await callOk<{ messages: unknown[] }>(a.socket, "fetch_history", { conversationId });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("NOT_FOUND");
    expect(history.messages).to.have.length(1);
  });
});

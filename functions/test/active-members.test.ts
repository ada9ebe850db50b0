import { expect } from "chai";
import type { ConversationSummary, UserPresence } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk } from "./support/messaging";
import { createUser } from "./support/users";

describe("active members", () => {
  it("answers the members connected now with their presence, to members only", async () => {
    const [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const d = await connectAs(url, dave.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "g", memberIds: [bob.uid, carol.uid] });
    await callOk(b.socket, "update_presence", { status: "busy" });

    const { members } = await callOk<{ members: UserPresence[] }>(a.socket, "get_active_members", { conversationId: conversation.id });
    const outsider = await call(d.socket, "get_active_members", { conversationId: conversation.id });

    expect(members.map((m) => m.userId)).to.have.members([alice.uid, bob.uid]);
    expect(members.find((m) => m.userId === bob.uid)?.status).to.equal("busy");
    expect(outsider.ok === false && outsider.error.code).to.equal("NOT_FOUND");
  });

  it("leaves out members who blocked the caller", async () => {
    const [alice, bob] = await Promise.all(["alice", "bob"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "g", memberIds: [bob.uid] });
    await callOk(a.socket, "block_user", { userId: bob.uid });

    const { members } = await callOk<{ members: UserPresence[] }>(b.socket, "get_active_members", { conversationId: conversation.id });

    expect(members.map((m) => m.userId)).to.deep.equal([bob.uid]);
  });
});

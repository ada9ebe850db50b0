import { expect } from "chai";
import type { ConversationSummary, TypingPayload } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { arrived, settle } from "./support/wait";

describe("typing indicators", () => {
  it("reach the other members of the conversation only, never the typist or outsiders", async () => {
    const { connect, users: [owner, member, outsider] } = await gatewayWith(["owner", "member", "outsider"]);
    const [o, m, x] = await connect(owner, member, outsider);
    const seen = { owner: collect<TypingPayload>(o.socket, "typing"), member: collect<TypingPayload>(m.socket, "typing"), outsider: collect<TypingPayload>(x.socket, "typing") };
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [member.uid] });

    await callOk(o.socket, "typing_start", { conversationId: conversation.id });
    await arrived(seen.member, 1);
    await callOk(o.socket, "typing_stop", { conversationId: conversation.id });
    await arrived(seen.member, 2);
    await settle();

    expect(seen.member.map((t) => t.isTyping)).to.deep.equal([true, false]);
    expect(seen.member[0]).to.include({ conversationId: conversation.id, userId: owner.uid });
    expect(seen.owner).to.have.length(0);
    expect(seen.outsider).to.have.length(0);
  });

  it("end by themselves when not refreshed", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { typingTtlMs: 300 });
    const [a, b] = await connect(alice, bob);
    const seen = collect<TypingPayload>(b.socket, "typing");
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    await callOk(a.socket, "typing_start", { conversationId });

    await arrived(seen, 2, 3_000);
    expect(seen.map((t) => t.isTyping)).to.deep.equal([true, false]);
    expect(seen[0].expiresInMs).to.equal(300);
  });

  it("stop when the typist disconnects", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const seen = collect<TypingPayload>(b.socket, "typing");
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    await callOk(a.socket, "typing_start", { conversationId });
    await arrived(seen, 1);
    a.socket.disconnect();

    expect((await arrived(seen, 2))[1].isTyping).to.equal(false);
  });

  it("are never stored and are refused outside one's conversations", async () => {
    const { connect, users: [alice, bob, eve] } = await gatewayWith(["alice", "bob", "eve"]);
    const [a, e] = await connect(alice, eve);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    const answer = await call(e.socket, "typing_start", { conversationId });
    await callOk(a.socket, "typing_start", { conversationId });
    const history = await callOk<{ messages: unknown[] }>(a.socket, "fetch_history", { conversationId });

    expectError(answer, "NOT_FOUND");
    expect(history.messages).to.have.length(1);
  });
});

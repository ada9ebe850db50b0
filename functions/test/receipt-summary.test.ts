import { expect } from "chai";
import type { ConversationSummary, ReceiptState, ReceiptSummaryPayload } from "../src/protocol";
import { connectAs } from "./support/gateway";
import { gatewayWith } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { eventually, settle } from "./support/wait";
import { expectError } from "./support/expect-error";

/** The newest summary per message, as a sender's app would show it. */
function latest(events: ReceiptSummaryPayload[]): Map<string, Omit<ReceiptSummaryPayload, "conversationId" | "messageId" | "seq">> {
  const state = new Map<string, Omit<ReceiptSummaryPayload, "conversationId" | "messageId" | "seq">>();
  for (const { messageId, delivered, read, members } of events) state.set(messageId, { delivered, read, members });
  return state;
}

describe("read by N of M (group receipts)", () => {
  it("the sender's devices see live how many members have each message delivered and read, and can ask who", async () => {
    const { url, connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"]);
    const [a, b, c] = await connect(alice, bob, carol);
    const a2 = await connectAs(url, alice.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "g", memberIds: [bob.uid, carol.uid] });
    const onPhone = collect<ReceiptSummaryPayload>(a.socket, "receipt_summary");
    const onLaptop = collect<ReceiptSummaryPayload>(a2.socket, "receipt_summary");
    const bobSees = collect<ReceiptSummaryPayload>(b.socket, "receipt_summary");
    const m1 = await sendOk(a.socket, { conversationId: conversation.id, content: "one" });
    const m2 = await sendOk(a.socket, { conversationId: conversation.id, content: "two" });
    const id = conversation.id;

    await callOk(b.socket, "mark_delivered", { conversationId: id, upToSeq: m2.seq });
    await eventually(() => latest(onPhone).get(m2.messageId), { accept: (s) => s?.delivered === 1, what: "bob's delivery" });
    await callOk(b.socket, "mark_read", { conversationId: id, upToSeq: m1.seq });
    await callOk(c.socket, "mark_read", { conversationId: id, upToSeq: m2.seq });

    const want = new Map([
      [m1.messageId, { delivered: 2, read: 2, members: 2 }],
      [m2.messageId, { delivered: 2, read: 1, members: 2 }],
    ]);
    for (const events of [onPhone, onLaptop]) await eventually(() => expect(latest(events)).to.deep.equal(want));
    const who = await callOk<{ receipts: ReceiptState[]; deliveredTo: string[]; readBy: string[] }>(a.socket, "get_receipts", { conversationId: id, messageId: m2.messageId });
    expect(who.deliveredTo).to.have.members([bob.uid, carol.uid]);
    expect(who.readBy).to.deep.equal([carol.uid]);
    expect(who.receipts).to.have.length(3);
    await settle();
    expect(bobSees, "only senders get summaries").to.deep.equal([]);
    expectError(await call(a.socket, "get_receipts", { conversationId: id, messageId: "m_nothing" }), "NOT_FOUND");
  });

  it("anonymous messages get no summary (nobody to tell without naming the sender)", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "g", memberIds: [bob.uid] });
    const seen = collect<ReceiptSummaryPayload>(a.socket, "receipt_summary");
    const anonymous = await sendOk(a.socket, { conversationId: conversation.id, content: "psst", isAnonymous: true });
    const named = await sendOk(a.socket, { conversationId: conversation.id, content: "hi" });

    await callOk(b.socket, "mark_read", { conversationId: conversation.id, upToSeq: named.seq });
    await eventually(() => latest(seen).get(named.messageId), { accept: (s) => s?.read === 1, what: "the named message's summary" });
    await settle();

    expect(seen.map((s) => s.messageId)).to.not.include(anonymous.messageId);
  });
});

import { expect } from "chai";
import type { ConversationSummary, DeliveryStatusPayload, ReceiptState } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { arrived } from "./support/wait";

describe("delivery and read receipts", () => {
  it("the sender sees sent, then delivered, then read", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, aliceOtherDevice, b] = await connect(alice, alice, bob);
    const statuses = collect<DeliveryStatusPayload>(a.socket, "message_delivery_status");
    const otherDeviceStatuses = collect<DeliveryStatusPayload>(aliceOtherDevice.socket, "message_delivery_status");
    const inbox = collect(b.socket);

    const sent = await sendOk(a.socket, { recipientId: bob.uid, content: "did you get this?" });
    const [message] = await arrived(inbox, 1);
    await callOk(b.socket, "mark_delivered", { conversationId: message.conversationId, upToSeq: message.seq });
    await arrived(statuses, 1);
    await callOk(b.socket, "mark_read", { conversationId: message.conversationId, upToSeq: message.seq });
    await arrived(statuses, 2);

    expect(sent.status).to.equal("sent");
    expect(statuses.map((s) => s.status)).to.deep.equal(["delivered", "read"]);
    expect(statuses[0]).to.include({ conversationId: sent.conversationId, userId: bob.uid, upToSeq: sent.seq });
    expect(statuses[0].messageIds).to.deep.equal([sent.messageId]);
    expect((await arrived(otherDeviceStatuses, 2)).map((s) => s.status)).to.deep.equal(["delivered", "read"]);
  });

  it("a receipt covers every message up to its sequence number, and never moves back", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const statuses = collect<DeliveryStatusPayload>(a.socket, "message_delivery_status");
    const acks = [];
    for (let i = 0; i < 3; i += 1) acks.push(await sendOk(a.socket, { recipientId: bob.uid, content: `m${i}` }));
    const conversationId = acks[0].conversationId;

    await callOk(b.socket, "mark_read", { conversationId, upToSeq: 3 });
    const back = await callOk<{ upToSeq: number }>(b.socket, "mark_read", { conversationId, upToSeq: 1 });
    const { receipts } = await callOk<{ receipts: ReceiptState[] }>(a.socket, "get_receipts", { conversationId });

    const [read] = await arrived(statuses, 1);
    expect(read).to.include({ status: "read", upToSeq: 3 });
    expect(read.messageIds).to.have.members(acks.map((x) => x.messageId));
    expect(back.upToSeq).to.equal(3);
    expect(receipts.find((r) => r.userId === bob.uid)).to.deep.equal({ userId: bob.uid, deliveredSeq: 3, readSeq: 3 });
  });

  it("cannot mark beyond the newest message", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    const answer = await callOk<{ upToSeq: number }>(b.socket, "mark_read", { conversationId, upToSeq: 1_000_000 });

    expect(answer.upToSeq).to.equal(1);
  });

  it("group receipts carry each member's state", async () => {
    const { connect, users: [owner, m1, m2] } = await gatewayWith(["owner", "m1", "m2"]);
    const [o, one] = await connect(owner, m1, m2);
    const statuses = collect<DeliveryStatusPayload>(o.socket, "message_delivery_status");
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [m1.uid, m2.uid] });
    const sent = await sendOk(o.socket, { conversationId: conversation.id, content: "read me" });

    await callOk(one.socket, "mark_read", { conversationId: conversation.id, upToSeq: sent.seq });
    const { receipts } = await callOk<{ receipts: ReceiptState[] }>(o.socket, "get_receipts", { conversationId: conversation.id });

    expect((await arrived(statuses, 1))[0]).to.include({ userId: m1.uid, status: "read" });
    const byUser = Object.fromEntries(receipts.map((r) => [r.userId, r]));
    expect(byUser[m1.uid]).to.include({ deliveredSeq: sent.seq, readSeq: sent.seq });
    expect(byUser[m2.uid]).to.include({ deliveredSeq: 0, readSeq: 0 });
    expect(Object.keys(byUser)).to.have.members([owner.uid, m1.uid, m2.uid]);
  });

  it("receipts of non-members are refused", async () => {
    const { connect, users: [alice, bob, eve] } = await gatewayWith(["alice", "bob", "eve"]);
    const [a, e] = await connect(alice, eve);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    const answer = await call(e.socket, "mark_read", { conversationId, upToSeq: 1 });

    expectError(answer, "NOT_FOUND");
  });
});

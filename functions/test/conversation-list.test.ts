import { expect } from "chai";
import type { ConversationListItem, ConversationSummary, UnreadChangedPayload } from "../src/protocol";
import type { ClientSocket } from "./support/gateway";
import { connectAs } from "./support/gateway";
import { gatewayWith } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { arrived, eventually } from "./support/wait";
import { expectError } from "./support/expect-error";

type Page = { conversations: ConversationListItem[]; nextCursor: string | null };
const list = (socket: ClientSocket, payload: object = { limit: 10 }) => callOk<Page>(socket, "list_conversations", payload);

describe("conversation list and unread counts", () => {
  it("counts unread messages from others per user; reading on one device lowers the count on the other, live", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b1] = await connect(alice, bob);
    const b2 = await connectAs(url, bob.idToken);
    const seenOnB2 = collect<UnreadChangedPayload>(b2.socket, "unread_changed");
    await sendOk(a.socket, { recipientId: bob.uid, content: "one" });
    const two = await sendOk(a.socket, { recipientId: bob.uid, content: "two" });
    await sendOk(b1.socket, { recipientId: alice.uid, content: "bob's own" });
    const three = await sendOk(a.socket, { recipientId: bob.uid, content: "three is the last one" });

    const before = (await list(b2.socket)).conversations[0];
    expect(before).to.include({ id: two.conversationId, unreadCount: 3, readSeq: 0, type: "direct" });
    expect(before.lastMessage).to.deep.equal({ id: three.messageId, preview: "three is the last one", senderId: alice.uid, seq: three.seq, createdAt: three.createdAt, type: "text" });
    expect((await list(a.socket)).conversations[0].unreadCount, "alice's view: bob's one message").to.equal(1);

    await callOk(b1.socket, "mark_read", { conversationId: two.conversationId, upToSeq: two.seq });
    await arrived(seenOnB2, 1);

    expect(seenOnB2[0]).to.deep.equal({ conversationId: two.conversationId, unreadCount: 1, readSeq: two.seq });
    expect((await list(b2.socket)).conversations[0]).to.include({ unreadCount: 1, readSeq: two.seq });
    await callOk(b2.socket, "mark_read", { conversationId: two.conversationId, upToSeq: three.seq });
    expect((await list(b1.socket)).conversations[0].unreadCount).to.equal(0);
  });

  it("sorts by last activity, pages with nextCursor, shows a direct peer's presence", async () => {
    const { connect, users: [alice, bob, carol, dave] } = await gatewayWith(["alice", "bob", "carol", "dave"]);
    const [a, b] = await connect(alice, bob);
    const { conversation: quiet } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "quiet", memberIds: [dave.uid] });
    const toCarol = await sendOk(a.socket, { recipientId: carol.uid, content: "hi carol" });
    const toBob = await sendOk(a.socket, { recipientId: bob.uid, content: "hi bob" });
    await sendOk(b.socket, { recipientId: alice.uid, content: "hi alice" });

    const first = await list(a.socket, { limit: 2 });
    expect(first.conversations.map((c) => c.id)).to.deep.equal([toBob.conversationId, toCarol.conversationId]);
    expect(first.nextCursor).to.be.a("string");
    const second = await list(a.socket, { limit: 2, before: first.nextCursor! });
    expect(second.conversations.map((c) => c.id)).to.deep.equal([quiet.id]);
    expect(second.nextCursor).to.equal(null);
    expect(second.conversations[0]).to.include({ unreadCount: 0, lastMessage: null });
    expect(second.conversations[0]).to.not.have.property("peer");

    const [withBob, withCarol] = first.conversations;
    expect(withBob.peer).to.deep.equal({ userId: bob.uid, isOnline: true, status: "online", lastSeen: null });
    expect(withCarol.peer).to.include({ userId: carol.uid, isOnline: false, status: "offline" });
    expect(withBob.lastActivityAt).to.be.at.least(withCarol.lastActivityAt);
    const everything = await callOk<{ conversations: ConversationSummary[]; nextCursor: null }>(a.socket, "list_conversations", {});
    expect(everything.conversations.map((c) => c.id), "no limit: all, summaries only").to.deep.equal([toBob.conversationId, toCarol.conversationId, quiet.id]);
    expect(everything.conversations[0]).to.not.have.property("unreadCount");
    expect(everything.nextCursor).to.equal(null);
    expectError(await call(a.socket, "list_conversations", { limit: "ten" }), "INVALID_ARGUMENT");
    expectError(await call(a.socket, "list_conversations", { before: "yesterday" }), "INVALID_ARGUMENT");
  });

  it("the last message of a conversation shows a deleted message without its content, and skips edit events", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice, bob);
    const sent = await sendOk(a.socket, { recipientId: bob.uid, content: "secret plan" });
    await callOk(a.socket, "edit_message", { conversationId: sent.conversationId, messageId: sent.messageId, content: "secret plan v2" });
    expect((await list(a.socket)).conversations[0].lastMessage).to.include({ id: sent.messageId, preview: "secret plan v2" });

    await callOk(a.socket, "delete_message", { conversationId: sent.conversationId, messageId: sent.messageId });
    const item = await eventually(async () => (await list(a.socket)).conversations[0]);
    expect(item.lastMessage).to.deep.include({ id: sent.messageId, preview: null, deleted: true });
  });
});

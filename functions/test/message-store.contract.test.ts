import { expect } from "chai";
import { firestore } from "../src/firebase";
import { ChatMessage } from "../src/protocol";
import { Conversation, MessageStore } from "../src/ports/message-store";
import { FirestoreMessageStore } from "../src/ports/message-store/firestore-message-store";
import { MemoryMessageStore } from "../src/ports/message-store/memory-message-store";

const adapters: Array<[string, () => MessageStore]> = [
  ["memory", () => new MemoryMessageStore()],
  ["firestore", () => new FirestoreMessageStore(firestore(), 7 * 86_400_000)],
];

const conversation = (id: string, members: string[]): Conversation => ({
  id,
  type: "group",
  name: "g",
  members,
  admins: [members[0]],
  announcement: false,
  postingRoles: [],
  createdBy: members[0],
  createdAt: 1_000,
});

const message = (conversationId: string, seq: number, senderId: string | null = "u1"): ChatMessage => ({
  id: `${conversationId}-m${seq}`,
  conversationId,
  seq,
  senderId,
  type: "text",
  content: `message ${seq}`,
  encryptionLevel: "standard",
  isAnonymous: senderId === null,
  clientId: `c${seq}`,
  clientTimestamp: null,
  createdAt: 1_000 + seq,
  metadata: {},
});

for (const [name, make] of adapters) {
  describe(`message store contract: ${name}`, () => {
    let store: MessageStore;
    beforeEach(() => {
      store = make();
    });

    it("creates a conversation once and returns the stored one afterwards", async () => {
      const first = await store.createConversation(conversation("c1", ["u1", "u2"]));
      const second = await store.createConversation({ ...conversation("c1", ["u9"]), name: "other" });

      expect(second).to.deep.equal(first);
      expect((await store.getConversation("c1"))?.members).to.deep.equal(["u1", "u2"]);
      expect(await store.getConversation("missing")).to.equal(undefined);
    });

    it("adds and removes members, dropping removed admins", async () => {
      await store.createConversation(conversation("c1", ["u1", "u2"]));

      const updated = await store.updateMembers("c1", { add: ["u3"], remove: ["u1"] }, 2_000);

      expect(updated.members).to.have.members(["u2", "u3"]);
      expect(updated.admins).to.deep.equal([]);
      expect((await store.conversationsOf("u3")).map((c) => c.id)).to.deep.equal(["c1"]);
      expect(await store.conversationsOf("u1")).to.deep.equal([]);
    });

    it("appends a message once: the same id again is a duplicate returning the first", async () => {
      const first = await store.appendMessage(message("c1", 1), { queueFor: [] });
      const again = await store.appendMessage({ ...message("c1", 2), id: "c1-m1" }, { queueFor: ["u2"] });

      expect(first.duplicate).to.equal(false);
      expect(again.duplicate).to.equal(true);
      expect(again.message.seq).to.equal(1);
      expect(await store.pendingFor("u2", 10)).to.deep.equal([]);
      expect(await store.highestSeq("c1")).to.equal(1);
    });

    it("pages history backwards and forwards by seq", async () => {
      for (let seq = 1; seq <= 7; seq += 1) await store.appendMessage(message("c1", seq), { queueFor: [] });

      const newest = await store.history("c1", { limit: 3 });
      const before = await store.history("c1", { beforeSeq: 5, limit: 3 });
      const after = await store.history("c1", { afterSeq: 5, limit: 10 });

      expect(newest.map((m) => m.seq)).to.deep.equal([5, 6, 7]);
      expect(before.map((m) => m.seq)).to.deep.equal([2, 3, 4]);
      expect(after.map((m) => m.seq)).to.deep.equal([6, 7]);
      expect(await store.highestSeq("c1")).to.equal(7);
      expect(await store.highestSeq("empty")).to.equal(0);
    });

    it("keeps a per-recipient queue in conversation and seq order, and marks it delivered up to a seq", async () => {
      await store.appendMessage(message("a", 2), { queueFor: ["bob"] });
      await store.appendMessage(message("b", 1), { queueFor: ["bob", "carol"] });
      await store.appendMessage(message("a", 1), { queueFor: ["bob"] });
      await store.appendMessage(message("a", 3), { queueFor: ["bob"] });

      const pending = await store.pendingFor("bob", 10);
      const marked = await store.markDelivered("bob", "a", 2, 5_000);

      expect(pending.map((e) => `${e.conversationId}${e.seq}`)).to.deep.equal(["a1", "a2", "a3", "b1"]);
      expect(marked).to.equal(2);
      // b's oldest entry (1001) is now older than a's (1003).
      expect((await store.pendingFor("bob", 10)).map((e) => `${e.conversationId}${e.seq}`)).to.deep.equal(["b1", "a3"]);
      expect(await store.queueDepth()).to.equal(3);
    });

    it("enqueues large fan-outs in several commits", async () => {
      const recipients = Array.from({ length: 1_100 }, (_, i) => `r${i}`);

      await store.enqueue(recipients.map((r) => ({ recipientId: r, conversationId: "g", messageId: "m1", seq: 1, message: message("g", 1), createdAt: 1 })));

      expect(await store.queueDepth()).to.equal(1_100);
      expect(await store.pendingFor("r1099", 5)).to.have.length(1);
    });

    it("moves receipts forward only; reading implies delivery", async () => {
      const first = await store.advanceReceipt("c1", "u2", "deliveredSeq", 3, 1);
      const back = await store.advanceReceipt("c1", "u2", "deliveredSeq", 1, 2);
      const read = await store.advanceReceipt("c1", "u2", "readSeq", 5, 3);

      expect(first).to.deep.equal({ before: 0, after: 3 });
      expect(back).to.deep.equal({ before: 3, after: 3 });
      expect(read).to.deep.equal({ before: 0, after: 5 });
      expect(await store.receipts("c1")).to.deep.equal([{ userId: "u2", deliveredSeq: 5, readSeq: 5 }]);
    });

    it("names the senders of a seq range, anonymous ones as null", async () => {
      await store.appendMessage(message("c1", 1, "u1"), { queueFor: [] });
      await store.appendMessage(message("c1", 2, null), { queueFor: [], realSenderId: "u3" });
      await store.appendMessage(message("c1", 3, "u2"), { queueFor: [] });

      const senders = await store.sendersBetween("c1", 1, 3, 10);

      expect(senders).to.deep.equal([
        { senderId: null, messageId: "c1-m2" },
        { senderId: "u2", messageId: "c1-m3" },
      ]);
    });
  });
}

// --- issue 14: conversation events, reactions, unread counts (both adapters) ---------------------
for (const [name, make] of adapters) {
  describe(`message store contract, issue 14 (${name})`, () => {
    let store: MessageStore;
    let id: string;
    beforeEach(async () => {
      store = make();
      id = `c14-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
      await store.createConversation(conversation(id, ["u1", "u2", "u3"]));
    });

    it("an event replaces its target, its queued copies and the previews of replies to it", async () => {
      await store.appendMessage(message(id, 1), { queueFor: ["u2"] });
      const reply = { ...message(id, 2, "u2"), replyTo: { id: `${id}-m1`, senderId: "u1", type: "text" as const, preview: "message 1" } };
      await store.appendMessage(reply, { queueFor: ["u3"] });
      const tombstone = { ...message(id, 1), content: "", deleted: true as const, deletedAt: 5 };
      const event = { ...message(id, 3), id: `${id}-e3`, type: "delete" as const, content: "", targetId: `${id}-m1` };
      await store.appendEvent(event, { queueFor: ["u2"], target: tombstone, replyRef: { id: `${id}-m1`, senderId: "u1", type: "text", preview: null, deleted: true } });

      const history = await store.history(id, { limit: 10 });
      expect(history.map((m) => [m.seq, m.type, m.content])).to.deep.equal([[1, "text", ""], [2, "text", "message 2"], [3, "delete", ""]]);
      expect(history[1].replyTo).to.deep.equal({ id: `${id}-m1`, senderId: "u1", type: "text", preview: null, deleted: true });
      expect(history[1]).to.not.have.property("replyToId");
      const queued = await store.pendingFor("u2", 10);
      expect(queued.map((e) => [e.seq, e.message.content])).to.deep.equal([[1, ""], [3, ""]]);
      expect((await store.pendingFor("u3", 10))[0].message.replyTo?.preview).to.equal(null);
    });

    it("reactions: one per value per user, counts, the reader's flags, queued copies", async () => {
      await store.appendMessage(message(id, 1), { queueFor: ["u3"] });
      const change = (userId: string, emoji: string, add = true) => store.react({ conversationId: id, messageId: `${id}-m1`, userId, emoji, add, maxDistinct: 2, now: 1 });

      expect(await change("u1", "👍")).to.deep.equal({ outcome: "ok", count: 1, changed: true });
      expect(await change("u1", "👍")).to.deep.equal({ outcome: "ok", count: 1, changed: false });
      expect(await change("u2", "👍")).to.deep.equal({ outcome: "ok", count: 2, changed: true });
      expect(await change("u2", "🎉")).to.deep.equal({ outcome: "ok", count: 1, changed: true });
      expect(await change("u2", "🔥")).to.deep.equal({ outcome: "too_many" });
      expect(await change("u1", "🎉", false)).to.deep.equal({ outcome: "ok", count: 1, changed: false });
      expect(await store.react({ conversationId: id, messageId: "nope", userId: "u1", emoji: "👍", add: true, maxDistinct: 2, now: 1 })).to.deep.equal({ outcome: "no_message" });

      const [stored] = await store.history(id, { limit: 10 });
      expect(stored.reactionCounts).to.deep.equal({ "👍": 2, "🎉": 1 });
      const mine = await store.reactionsOf(id, "u2", new Map([[`${id}-m1`, ["👍", "🎉"]]]));
      expect(mine.get(`${id}-m1`)).to.have.members(["👍", "🎉"]);
      expect((await store.pendingFor("u3", 10))[0].message.reactions).to.have.deep.members([{ emoji: "👍", count: 2, me: false }, { emoji: "🎉", count: 1, me: false }]);
    });

    it("unread counts leave out the reader's own messages; activity and readSeq are kept", async () => {
      await store.appendMessage(message(id, 1, "u1"), { queueFor: [] });
      await store.appendMessage(message(id, 2, "u2"), { queueFor: [] });
      await store.appendMessage(message(id, 3, "u1"), { queueFor: [] });
      await store.advanceReceipt(id, "u2", "readSeq", 1, 10);
      await store.touchConversations([{ conversationId: id, at: 77 }]);

      expect(await store.unreadCount(id, "u2", 1)).to.equal(1);
      expect(await store.unreadCount(id, "u3", 0)).to.equal(3);
      expect(await store.readSeqOf(id, "u2")).to.equal(1);
      expect(await store.readSeqOf(id, "u3")).to.equal(0);
      expect((await store.getConversation(id))?.lastActivityAt).to.equal(77);
    });
  });
}

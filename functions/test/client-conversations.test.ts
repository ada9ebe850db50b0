/**
 * The client library keeps its state in step with issue 14's conversation events, against a real gateway:
 * edits and deletions folded into the kept messages in seq order, reactions with "mine", unread counts
 * across a user's devices, and "read by N of M".
 */
import { expect } from "chai";
import type { MessageDeletion, MessageEdit, ReceiptSummaryPayload } from "../../client/src/index.js";
import { freePort } from "../tools/free-port";
import { TcpProxy } from "../tools/tcp-proxy";
import { appInbox, holds, started, talowaClient } from "./support/client";
import { startGateway } from "./support/gateway";
import { createUsers } from "./support/users";

describe("client library: edits, deletions, reactions, unread counts", function () {
  this.timeout(30_000);

  it("alice edits, reacts and deletes; bob's library shows each change in order, and a reconnect and a history refetch leave one copy of each message", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const bobSees = appInbox(b);
    const changes: string[] = [];
    b.on("message_edited", (e: MessageEdit) => changes.push(`edited ${e.messageId} "${e.content}"`));
    b.on("message_deleted", (d: MessageDeletion) => changes.push(`deleted ${d.messageId}`));
    const question = await a.send({ recipientId: bob.uid, content: "is the bridge open?" });
    const { conversationId } = question;
    const news = await a.send({ conversationId, content: "road closed at the school" });
    await holds(() => bobSees.length === 2, "bob to get both messages");
    const reply = await b.send({ conversationId, content: "yes, since noon", replyToId: question.messageId });

    await a.editMessage(conversationId, question.messageId, "is the north bridge open?");
    await a.addReaction(conversationId, news.messageId, "👍");
    await holds(() => b.reactionsOf(news.messageId).length === 1, "bob to see alice's reaction");
    await b.addReaction(conversationId, news.messageId, "👍");
    await a.deleteMessage(conversationId, question.messageId);
    await holds(() => b.message(conversationId, question.messageId)?.deleted === true, "bob to see the deletion");
    await holds(() => a.reactionsOf(news.messageId)[0]?.count === 2, "alice to see bob's reaction");
    const live = b.messages(conversationId);

    b.reconnect();
    await b.ready();
    await b.history(conversationId, { limit: 50 });
    const after = b.messages(conversationId);

    expect(changes).to.deep.equal([`edited ${question.messageId} "is the north bridge open?"`, `deleted ${question.messageId}`]);
    expect(after).to.deep.equal(live);
    expect(after.map((m) => [m.id, m.content, m.deleted ?? false])).to.deep.equal([
      [question.messageId, "", true],
      [news.messageId, "road closed at the school", false],
      [reply.messageId, "yes, since noon", false],
    ]);
    expect(after[1].reactions).to.deep.equal([{ emoji: "👍", count: 2, me: true }]);
    expect(after[2].replyTo).to.include({ id: question.messageId, preview: null, deleted: true });
    expect(a.message(conversationId, question.messageId)?.deleted).to.equal(true);
    expect(a.reactionsOf(news.messageId)).to.deep.equal([{ emoji: "👍", count: 2, me: true }]);
    expect(bobSees.map((m) => m.type)).to.deep.equal(["text", "text", "text", "edit", "delete"]);
  });

  it("changes made while bob was cut off reach his library after the reconnect, in seq order, each once; a history refetch changes nothing", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { port } = await startGateway();
    const proxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port });
    await proxy.open();
    try {
      const a = await started(talowaClient(`http://127.0.0.1:${port}`, alice));
      const b = await started(talowaClient(`http://${proxy.address}`, bob));
      const changes: string[] = [];
      b.on("message_edited", (e) => changes.push(`edited ${e.content}`));
      b.on("message_deleted", (d) => changes.push(`deleted ${d.messageId}`));
      const first = await a.send({ recipientId: bob.uid, content: "first" });
      const { conversationId } = first;
      const second = await a.send({ conversationId, content: "second" });
      await holds(() => b.messages(conversationId).length === 2, "bob's two copies");

      await proxy.cut();
      await holds(() => b.state === "connecting", "bob to notice the loss");
      await a.editMessage(conversationId, first.messageId, "first, edited once");
      await a.editMessage(conversationId, first.messageId, "first, edited twice");
      await a.deleteMessage(conversationId, second.messageId);
      const third = await a.send({ conversationId, content: "third" });
      await proxy.open();
      await holds(() => b.messages(conversationId).length === 3, "bob to catch up");
      await b.ready();
      const caughtUp = b.messages(conversationId);
      await b.history(conversationId, { limit: 100 });

      expect(changes).to.deep.equal(["edited first, edited once", "edited first, edited twice", `deleted ${second.messageId}`]);
      expect(caughtUp.map((m) => [m.id, m.content, m.deleted ?? false])).to.deep.equal([
        [first.messageId, "first, edited twice", false],
        [second.messageId, "", true],
        [third.messageId, "third", false],
      ]);
      expect(b.messages(conversationId)).to.deep.equal(caughtUp);
      expect(b.unreadCount(conversationId)).to.equal(6); // three messages, two edits, one deletion
    } finally {
      await proxy.close();
    }
  });

  it("a reaction removed on one device of bob's shows as not mine on his other device; an edit made on alice's phone shows on her laptop", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway();
    const phone = await started(talowaClient(url, alice));
    const laptop = await started(talowaClient(url, alice));
    const b1 = await started(talowaClient(url, bob));
    const b2 = await started(talowaClient(url, bob));
    const sent = await phone.send({ recipientId: bob.uid, content: "meet at 5" });
    await holds(() => b2.message(sent.conversationId, sent.messageId) !== undefined && laptop.message(sent.conversationId, sent.messageId) !== undefined, "the copies");

    await b1.addReaction(sent.conversationId, sent.messageId, "✅");
    await holds(() => b2.reactionsOf(sent.messageId)[0]?.me === true, "bob's other device to see his reaction as his");
    await b1.removeReaction(sent.conversationId, sent.messageId, "✅");
    await holds(() => b2.reactionsOf(sent.messageId).length === 0, "the removal on bob's other device");
    await phone.editMessage(sent.conversationId, sent.messageId, "meet at 6");
    await holds(() => laptop.message(sent.conversationId, sent.messageId)?.content === "meet at 6", "alice's laptop to see her edit");

    expect(phone.message(sent.conversationId, sent.messageId)).to.include({ content: "meet at 6" });
    expect(laptop.message(sent.conversationId, sent.messageId)?.editedAt).to.be.a("number");
    expect(phone.reactionsOf(sent.messageId)).to.deep.equal([]);
    expect(laptop.unreadCount(sent.conversationId)).to.equal(0); // your own edit made elsewhere is not unread
  });

  it("unread counts: mark_read on bob's phone brings the count down on his laptop, and a fresh tablet takes its count from the conversation list", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const phone = await started(talowaClient(url, bob));
    const laptop = await started(talowaClient(url, bob));
    const laptopCounts: number[] = [];
    let conversationId = "";
    for (const text of ["water rising", "move the car", "bring the dog"]) conversationId = (await a.send({ recipientId: bob.uid, content: text })).conversationId;
    await holds(() => phone.unreadCount(conversationId) === 3 && laptop.unreadCount(conversationId) === 3, "three unread on both devices");
    laptop.on("unread", (id, count) => id === conversationId && laptopCounts.push(count));
    const tablet = await started(talowaClient(url, bob));
    const tabletBeforeList = tablet.unreadCount(conversationId);
    await tablet.listConversations();
    const tabletFromList = tablet.unreadCount(conversationId);

    await phone.markRead(conversationId, 2);
    await holds(() => laptop.unreadCount(conversationId) === 1 && tablet.unreadCount(conversationId) === 1, "one unread left on the laptop and the tablet");
    await phone.markRead(conversationId);
    await holds(() => laptop.unreadCount(conversationId) === 0 && tablet.unreadCount(conversationId) === 0, "nothing unread anywhere");
    await a.send({ conversationId, content: "are you out?" });
    await holds(() => tablet.unreadCount(conversationId) === 1, "the tablet to count the new message");

    expect(tabletBeforeList).to.equal(0); // it never saw the messages
    expect(tabletFromList).to.equal(3);
    expect(laptopCounts).to.deep.equal([1, 0, 1]);
    expect(laptop.readSeq(conversationId)).to.equal(3);
  });

  it("read by N of M: the sender's library gets the group's receipt_summary", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const c = await started(talowaClient(url, carol));
    const summaries: ReceiptSummaryPayload[] = [];
    a.on("receipt_summary", (s) => summaries.push(s));
    const group = await a.createGroup({ name: "street 4", memberIds: [bob.uid, carol.uid] });
    await holds(() => b.conversation(group.id) !== undefined && c.conversation(group.id) !== undefined, "the members to learn the group");
    const sent = await a.send({ conversationId: group.id, content: "generator at number 12" });
    await holds(() => b.cursor(group.id) === sent.seq && c.cursor(group.id) === sent.seq, "both copies");

    await b.markRead(group.id);
    await c.markRead(group.id);
    await holds(() => summaries.some((s) => s.messageId === sent.messageId && s.read === 2), "read by 2 of 2");

    expect(summaries.at(-1)).to.deep.include({ conversationId: group.id, messageId: sent.messageId, seq: sent.seq, read: 2, delivered: 2, members: 2 });
    expect(a.receiptSummary(group.id, sent.seq)).to.deep.equal({ delivered: 2, read: 2, of: 2 });
    expect(a.deliveryState(group.id, sent.seq)).to.equal("read");
  });
});

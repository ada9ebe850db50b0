/**
 * The client library (client/src, @talowa/client) against a real gateway: what an app built on it sees.
 */
import { expect } from "chai";
import { MemoryStorage, TalowaError, type ChatMessage } from "../../client/src/index.js";
import type { MessageStore } from "../src/ports/message-store";
import { freePort } from "../tools/free-port";
import { TcpProxy } from "../tools/tcp-proxy";
import { appInbox, holds, started, talowaClient } from "./support/client";
import { startGateway } from "./support/gateway";
import { createUser } from "./support/users";

const contents = (messages: ChatMessage[]) => messages.map((m) => m.content);

describe("client library: messaging", function () {
  this.timeout(30_000);

  it("two users exchange direct messages: each side's app gets every message once, in seq order, its own ones included", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const aliceSees = appInbox(a);
    const bobSees = appInbox(b);

    for (const text of ["hi bob", "are you there?"]) await a.send({ recipientId: bob.uid, content: text });
    await holds(() => bobSees.length === 2, "bob to get alice's messages");
    const unreadBeforeReply = b.unreadCount(bobSees[0].conversationId);
    const conversationId = bobSees[0].conversationId;
    await b.send({ conversationId, content: "yes!" });
    await holds(() => aliceSees.length === 3, "alice to get bob's reply");

    expect(contents(aliceSees)).to.deep.equal(["hi bob", "are you there?", "yes!"]);
    expect(aliceSees.map((m) => m.seq)).to.deep.equal([1, 2, 3]);
    expect(contents(bobSees)).to.deep.equal(["hi bob", "are you there?", "yes!"]);
    expect(a.conversations.map((c) => c.id)).to.deep.equal([conversationId]);
    expect(unreadBeforeReply).to.equal(2);
  });

  it("receipts: the sender sees its message delivered (batched mark_delivered), then read", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const bobSees = appInbox(b);

    const ack = await a.send({ recipientId: bob.uid, content: "did you get this?" });
    const states = [a.deliveryState(ack.conversationId, ack.seq)];
    await holds(() => a.deliveryState(ack.conversationId, ack.seq) === "delivered", "delivered");
    states.push(a.deliveryState(ack.conversationId, ack.seq));
    await holds(() => bobSees.length === 1, "bob's copy");
    await b.markRead(ack.conversationId);
    await holds(() => a.deliveryState(ack.conversationId, ack.seq) === "read", "read");
    states.push(a.deliveryState(ack.conversationId, ack.seq));

    expect(states).to.deep.equal(["sent", "delivered", "read"]);
    expect(b.unreadCount(ack.conversationId)).to.equal(0);
    expect(a.receiptSummary(ack.conversationId, ack.seq)).to.deep.equal({ delivered: 1, read: 1, of: 1 });
  });

  it("a connection lost while the other side sends: after the reconnect the app gets what it missed, in order, once", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { port } = await startGateway();
    const proxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port });
    await proxy.open();
    try {
      const a = await started(talowaClient(`http://127.0.0.1:${port}`, alice));
      const b = await started(talowaClient(`http://${proxy.address}`, bob));
      const bobSees = appInbox(b);
      await a.send({ recipientId: bob.uid, content: "one" });
      await holds(() => bobSees.length === 1, "the first message");

      await proxy.cut();
      await holds(() => b.state === "connecting", "bob to notice the loss");
      for (const text of ["two", "three", "four"]) await a.send({ recipientId: bob.uid, content: text });
      await proxy.open();
      await holds(() => bobSees.length === 4, "bob to catch up");
      await b.ready();

      expect(contents(bobSees)).to.deep.equal(["one", "two", "three", "four"]);
      expect(bobSees.map((m) => m.seq)).to.deep.equal([1, 2, 3, 4]);
      expect(b.stats.connects).to.equal(2);
      expect(b.stats.outOfOrder).to.equal(0);
    } finally {
      await proxy.close();
    }
  });

  it("the outbox: messages sent while offline go out after the reconnect, in order, each stored once", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { port } = await startGateway();
    const proxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port });
    await proxy.open();
    try {
      const a = await started(talowaClient(`http://${proxy.address}`, alice));
      const b = await started(talowaClient(`http://127.0.0.1:${port}`, bob));
      const bobSees = appInbox(b);
      await a.send({ recipientId: bob.uid, content: "online" });

      await proxy.cut();
      await holds(() => a.state === "connecting", "alice to notice the loss");
      const sends = ["offline 1", "offline 2", "offline 3"].map((content) => a.send({ recipientId: bob.uid, content }));
      const pendingWhileOffline = a.pendingSends().length;
      await proxy.open();
      const acks = await Promise.all(sends);
      await holds(() => bobSees.length === 4, "bob to get all four");

      expect(pendingWhileOffline).to.equal(3);
      expect(acks.map((x) => x.seq)).to.deep.equal([2, 3, 4]);
      expect(contents(bobSees)).to.deep.equal(["online", "offline 1", "offline 2", "offline 3"]);
      expect(a.pendingSends()).to.deep.equal([]);
    } finally {
      await proxy.close();
    }
  });

  it("a send refused with UNAVAILABLE is retried with the same clientId: one message, and the gap its first try left is filled", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    let failNext = false;
    const failingOnDemand = (real: MessageStore): MessageStore =>
      new Proxy(real, {
        get(target, property, receiver) {
          if (property === "appendMessage" && failNext) {
            return async () => {
              failNext = false;
              throw new Error("deadline exceeded");
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const { url } = await startGateway({}, { messageStore: failingOnDemand });
    const a = await started(talowaClient(url, alice, { minRetryDelayMs: 50 }));
    const b = await started(talowaClient(url, bob));
    const bobSees = appInbox(b);
    await a.send({ recipientId: bob.uid, content: "first" });

    failNext = true; // the first try of the next message uses up seq 2 and fails
    const retried = await a.send({ recipientId: bob.uid, content: "second", clientId: "retry-me" });
    await a.send({ recipientId: bob.uid, content: "third" });
    await holds(() => bobSees.length === 3, "bob to get three messages");

    expect(retried.seq).to.equal(3);
    expect(contents(bobSees)).to.deep.equal(["first", "second", "third"]);
    expect(bobSees.map((m) => m.seq)).to.deep.equal([1, 3, 4]);
    expect(bobSees.filter((m) => m.clientId === "retry-me")).to.have.length(1);
  });

  it("RATE_LIMITED: the outbox waits retryAfterMs and sends again; nothing is lost or doubled", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway({ rateLimits: { text: { limit: 2, windowMs: 1_000 } } });
    const a = await started(talowaClient(url, alice, { minRetryDelayMs: 20 }));
    const b = await started(talowaClient(url, bob));
    const bobSees = appInbox(b);
    const failed: string[] = [];
    a.on("send_failed", (clientId) => failed.push(clientId));

    const acks = await Promise.all([1, 2, 3, 4, 5].map((n) => a.send({ recipientId: bob.uid, content: `m${n}` })));
    await holds(() => bobSees.length === 5, "bob to get all five");

    // A refused send may use up a sequence number (docs/DATA-MODEL.md): increasing, not contiguous.
    expect(acks.map((x) => x.seq)).to.deep.equal([...acks.map((x) => x.seq)].sort((x, y) => x - y));
    expect(new Set(acks.map((x) => x.seq)).size).to.equal(5);
    expect(contents(bobSees)).to.deep.equal(["m1", "m2", "m3", "m4", "m5"]);
    expect(failed).to.deep.equal([]);
  });

  it("an unsent message kept in storage is sent by the next client on that storage", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { port } = await startGateway();
    const proxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port });
    const storage = new MemoryStorage();
    const b = await started(talowaClient(`http://127.0.0.1:${port}`, bob));
    const bobSees = appInbox(b);
    // The app starts offline, queues a message, and is closed before it ever connects.
    const first = talowaClient(`http://${proxy.address}`, alice, { storage });
    await first.start();
    const lost = first.send({ recipientId: bob.uid, content: "written offline", clientId: "kept" }).catch((e: TalowaError) => e);
    await first.close();
    const refusal = await lost;

    await proxy.open();
    try {
      const second = talowaClient(`http://${proxy.address}`, alice, { storage });
      const sent: string[] = [];
      second.on("sent", (clientId) => sent.push(clientId));
      await started(second);
      await holds(() => bobSees.length === 1 && sent.length === 1, "bob to get the kept message, and its ack");

      expect((refusal as TalowaError).code).to.equal("UNAVAILABLE");
      expect(sent).to.deep.equal(["kept"]);
      expect(contents(bobSees)).to.deep.equal(["written offline"]);
      expect(await storage.entries("outbox:")).to.deep.equal([]);
    } finally {
      await proxy.close();
    }
  });

  it("a second device that was away resumes from its stored cursor (no offline queue: the other device was online)", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const phone = await started(talowaClient(url, bob));
    const phoneSaw = appInbox(phone);
    const storage = new MemoryStorage();
    const laptop = await started(talowaClient(url, bob, { storage }));
    const laptopSaw = appInbox(laptop);
    await a.send({ recipientId: bob.uid, content: "seen by both" });
    await holds(() => laptopSaw.length === 1, "the laptop's copy");
    await laptop.close();

    for (const text of ["while the laptop was shut 1", "while the laptop was shut 2"]) await a.send({ recipientId: bob.uid, content: text });
    await holds(() => phoneSaw.length === 3, "the phone's copies");
    const reopened = talowaClient(url, bob, { storage });
    const reopenedSees = appInbox(reopened);
    await started(reopened);

    expect(contents(reopenedSees)).to.deep.equal(["while the laptop was shut 1", "while the laptop was shut 2"]);
  });

  it("the offline queue of a user who was away reaches the app before anything live, once, and is confirmed", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    for (const text of ["queued 1", "queued 2", "queued 3"]) await a.send({ recipientId: bob.uid, content: text });

    const b = talowaClient(url, bob);
    const bobSees = appInbox(b);
    await started(b);
    await a.send({ recipientId: bob.uid, content: "live" });
    await holds(() => bobSees.length === 4, "bob to get four");
    await holds(() => a.deliveryState(bobSees[0].conversationId, 4) === "delivered", "confirmation");
    await b.close();
    const again = talowaClient(url, bob);
    const againSees = appInbox(again);
    await started(again);
    await a.send({ recipientId: bob.uid, content: "marker" });
    await holds(() => againSees.length === 1, "the marker");

    expect(contents(bobSees)).to.deep.equal(["queued 1", "queued 2", "queued 3", "live"]);
    expect(contents(againSees)).to.deep.equal(["marker"]); // nothing was left in the queue
  });
});

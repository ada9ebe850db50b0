import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { MessageType } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, collect, send, sendOk } from "./support/messaging";
import { createUsers } from "./support/users";
import { settle } from "./support/wait";

const defaults: Array<[MessageType, number]> = [
  ["text", 60],
  ["image", 10],
  ["document", 5],
  ["voice", 20],
  ["emergency", 3],
];

describe("rate limits", () => {
  for (const [type, limit] of defaults) {
    it(`${type}: ${limit} per minute, then RATE_LIMITED with retryAfterMs, nothing stored or routed`, async () => {
      const { connect, users: [sender, bob] } = await gatewayWith([{ name: "sender", claims: { role: "coordinator" } }, "bob"]);
      const [s, b] = await connect(sender, bob);
      const received = collect(b.socket);

      let conversationId = "";
      for (let i = 0; i < limit; i += 1) conversationId = (await sendOk(s.socket, { recipientId: bob.uid, type, content: `${type} ${i}` })).conversationId;
      const refused = await send(s.socket, { recipientId: bob.uid, type, content: "one too many" });
      const otherType = await send(s.socket, { recipientId: bob.uid, type: type === "text" ? "voice" : "text", content: "other type" });
      await settle();

      expect(expectError(refused, "RATE_LIMITED").retryAfterMs).to.be.within(1, 60_000);
      expect(otherType.ok).to.equal(true);
      expect(received.map((m) => m.content)).not.to.include("one too many");
      const stored = await firestore().collection("conversations").doc(conversationId).collection("messages").get();
      expect(stored.size).to.equal(limit + 1);
    });
  }

  it("typing: 10 events per 10 seconds", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid });

    for (let i = 0; i < 10; i += 1) await callOk(a.socket, "typing_start", { conversationId });
    const refused = await call(a.socket, "typing_start", { conversationId });

    expectError(refused, "RATE_LIMITED");
  });

  it("is shared by the gateway instances through Redis", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const limits = { rateLimits: { text: { limit: 4, windowMs: 60_000 } } };
    const one = await startGateway(limits);
    const two = await startGateway(limits);
    const a1 = await connectAs(one.url, alice.idToken);
    const a2 = await connectAs(two.url, alice.idToken);

    for (const socket of [a1.socket, a2.socket, a1.socket, a2.socket]) await sendOk(socket, { recipientId: bob.uid });
    const refused = await send(a1.socket, { recipientId: bob.uid });

    expectError(refused, "RATE_LIMITED");
  });

  it("applies per user: one user's flood does not limit another", async () => {
    const { connect, users: [flooder, calm, bob] } = await gatewayWith(["flooder", "calm", "bob"], { rateLimits: { text: { limit: 2, windowMs: 60_000 } } });
    const [f, c] = await connect(flooder, calm);

    for (let i = 0; i < 5; i += 1) await send(f.socket, { recipientId: bob.uid });
    const answer = await send(c.socket, { recipientId: bob.uid });

    expect(answer.ok).to.equal(true);
  });
});

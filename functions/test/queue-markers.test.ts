import { expect } from "chai";
import Redis from "ioredis";
import { valueOf } from "../src/gateway/metrics";
import { connectAs, createClient, nextEvent, startGateway } from "./support/gateway";
import { environment } from "./support/environment";
import { callOk, collect, sendOk } from "./support/messaging";
import { settle, arrived } from "./support/wait";
import { createUser, TestUser } from "./support/users";

/**
 * Queue markers: an admission whose offline queue is known to be empty reads no queue from Firestore;
 * whatever happens to the marks in Redis (deleted, flushed), queued messages are still delivered.
 */

async function withRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(environment().redis.url);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

describe("offline queue markers", () => {
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(async () => {
    [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
  });

  /** Bob connects and collects new_message from the first moment (queued ones arrive right after auth_success). */
  async function bobConnects(url: string) {
    const socket = createClient(url, { auth: { token: bob.idToken }, autoConnect: false });
    const received = collect(socket);
    const welcome = nextEvent(socket, "auth_success");
    socket.connect();
    await welcome;
    return { socket, received };
  }

  async function bobLeaves(socket: { disconnect(): void }) {
    socket.disconnect();
    await settle(300); // presence: bob is offline everywhere
  }

  it("admits a user whose queue is known empty without reading it, and still delivers what is queued later", async () => {
    const { url, gateway } = await startGateway();
    const skipped = () => valueOf(gateway.metrics.queueReadsSkipped);
    const { socket: aliceSocket } = await connectAs(url, alice.idToken);

    const first = await bobConnects(url); // nothing queued: read once, then known empty
    await bobLeaves(first.socket);
    const second = await bobConnects(url);
    expect(await skipped()).to.equal(1);
    await bobLeaves(second.socket);

    const sent = await sendOk(aliceSocket, { recipientId: bob.uid, content: "while you were away" });
    const third = await bobConnects(url);
    const [queued] = await arrived(third.received, 1);
    expect(queued.id).to.equal(sent.messageId);
    expect(await skipped()).to.equal(1);
  });

  it("marks the queue empty once the user confirmed what was queued: the next admission reads nothing", async () => {
    const { url, gateway } = await startGateway();
    const { socket: aliceSocket } = await connectAs(url, alice.idToken);
    const sent = await sendOk(aliceSocket, { recipientId: bob.uid, content: "queued" });

    const first = await bobConnects(url);
    await arrived(first.received, 1);
    await callOk(first.socket, "mark_delivered", { conversationId: sent.conversationId, upToSeq: sent.seq });
    await settle(200);
    await bobLeaves(first.socket);
    const second = await bobConnects(url);
    await settle(200);

    expect(second.received).to.deep.equal([]);
    expect(await valueOf(gateway.metrics.queueReadsSkipped)).to.equal(1);
  });

  for (const [loss, lose] of [
    ["the user's marker key is deleted", (redis: Redis, uid: string): Promise<unknown> => redis.del(`talowa:queue:${uid}`)],
    ["Redis is flushed", (redis: Redis): Promise<unknown> => redis.flushall()],
  ] as const) {
    it(`delivers the queue when ${loss}: a lost marker means reading Firestore`, async () => {
      const { url, gateway } = await startGateway();
      const { socket: aliceSocket } = await connectAs(url, alice.idToken);
      const first = await bobConnects(url);
      await bobLeaves(first.socket); // bob's queue is now known empty
      const sent = await sendOk(aliceSocket, { recipientId: bob.uid, content: "queued while away" });

      await withRedis((redis) => lose(redis, bob.uid));
      const second = await bobConnects(url);

      const [queued] = await arrived(second.received, 1);
      expect(queued.id).to.equal(sent.messageId);
      expect(await valueOf(gateway.metrics.queueReadsSkipped)).to.equal(0);
    });
  }
});

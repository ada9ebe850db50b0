import { expect } from "chai";
import Redis from "ioredis";
import type { Gateway } from "../src/gateway/gateway";
import { freePort } from "../tools/free-port";
import { LocalRedis } from "../tools/redis-server";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { createConversation, fastPresence, nextPresence, presenceReady, statusOf } from "./support/presence";
import { sendOk } from "./support/messaging";
import { eventually, settle } from "./support/wait";

async function presenceMode(gateway: Gateway): Promise<string> {
  const stats = (await gateway.stats()) as unknown as { presence: { mode: string } };
  return stats.presence.mode;
}

async function onlineInRedis(url: string): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await redis.smembers("talowa:presence:online");
  } finally {
    redis.disconnect();
  }
}

describe("presence when Redis goes away", () => {
  let privateRedis: LocalRedis | undefined;

  afterEach(async () => {
    await privateRedis?.stop();
    privateRedis = undefined;
  });

  it("keeps answering from memory while Redis is down, and writes its connections back when it returns", async () => {
    privateRedis = await LocalRedis.start();
    const redisUrl = privateRedis.url;
    const { gateway, connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"], { ...fastPresence, redisUrl });
    await createConversation([alice.uid, bob.uid]);
    await createConversation([alice.uid, carol.uid]); // carol may see alice's presence (issue 12: contacts only)
    const [bobClient, aliceClient] = await connect(bob, alice);
    await presenceReady(bobClient.socket);
    await presenceReady(aliceClient.socket);
    const [tablet] = await connect(alice);
    await presenceReady(tablet.socket);

    await privateRedis.kill();
    await eventually(async () => expect(await presenceMode(gateway)).to.equal("memory"), { timeoutMs: 5_000 });

    expect(await statusOf(bobClient.socket, alice.uid)).to.equal("online");
    const busy = nextPresence(bobClient.socket, alice.uid, "busy");
    await aliceClient.socket.timeout(5_000).emitWithAck("update_presence", { status: "busy" });
    await busy;
    tablet.socket.disconnect(); // closes while Redis is down: must not linger in Redis afterwards
    await settle(300);

    await privateRedis.start();
    await eventually(async () => expect(await presenceMode(gateway)).to.equal("redis"), { timeoutMs: 10_000 });

    expect(await onlineInRedis(redisUrl)).to.have.members([alice.uid, bob.uid]);
    const other = await startGateway({ ...fastPresence, redisUrl });
    const carolClient = await connectAs(other.url, carol.idToken);
    expect(await statusOf(carolClient.socket, alice.uid)).to.equal("busy");
    const stats = (await other.gateway.stats()) as unknown as { presence: { connections: number } };
    expect(stats.presence.connections).to.equal(3);
    expect(aliceClient.socket.connected && bobClient.socket.connected).to.equal(true);
  });

  it("starts in memory when Redis is unreachable and moves to Redis once it answers", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const { gateway, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { ...fastPresence, redisUrl });
    await createConversation([alice.uid, bob.uid]);
    const [bobClient] = await connect(bob);
    await presenceReady(bobClient.socket);

    expect(await presenceMode(gateway)).to.equal("memory");
    const online = nextPresence(bobClient.socket, alice.uid, "online");
    await connect(alice);
    await online;

    privateRedis = new LocalRedis(port);
    await privateRedis.start();
    await eventually(async () => expect(await presenceMode(gateway)).to.equal("redis"), { timeoutMs: 10_000 });

    expect(await onlineInRedis(redisUrl)).to.have.members([alice.uid, bob.uid]);
    expect(await statusOf(bobClient.socket, alice.uid)).to.equal("online");
  });

  it("runs in memory alone when no Redis is configured", async () => {
    const { gateway, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { ...fastPresence, redisUrl: "", messageStore: "memory" });
    const [bobClient] = await connect(bob);
    await sendOk(bobClient.socket, { recipientId: alice.uid, content: "hi" }); // contacts see each other's presence (issue 12)

    const online = nextPresence(bobClient.socket, alice.uid, "online");
    const [aliceClient] = await connect(alice);
    await online;
    const offline = nextPresence(bobClient.socket, alice.uid, "offline");
    aliceClient.socket.disconnect();

    expect((await offline).lastSeen).to.be.a("number");
    expect(await presenceMode(gateway)).to.equal("memory");
  });
});

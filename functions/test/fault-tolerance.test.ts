import { expect } from "chai";
import { spawn } from "node:child_process";
import { firestore } from "../src/firebase";
import { freePort } from "../tools/free-port";
import { OwnedProcess } from "../tools/processes";
import { LocalRedis } from "../tools/redis-server";
import { ResilientClient } from "../tools/resilient-client";
import { TcpProxy } from "../tools/tcp-proxy";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { collect, newClientId, send, sendOk } from "./support/messaging";
import { startStandalone } from "./support/standalone";
import { createUsers } from "./support/users";
import { arrived, eventually, settle } from "./support/wait";

const liftedLimits = JSON.stringify({ text: { limit: 100_000, windowMs: 60_000 } });
const clients: ResilientClient[] = [];

function resilient(urls: string[], token: string): ResilientClient {
  const client = new ResilientClient({ urls, token: () => token, reconnectDelayMs: 100 });
  clients.push(client);
  return client;
}

describe("fault tolerance", function () {
  this.timeout(60_000);
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it("an instance killed with SIGKILL while messages flow: every acked message reaches the recipient once, in order", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const env = { RATE_LIMITS: liftedLimits, CHECK_REVOKED: "false" };
    const a = await startStandalone(env);
    const b = await startStandalone(env);
    const sender = resilient([a.url, b.url], alice.idToken);
    const recipient = resilient([a.url, b.url], bob.idToken);
    await Promise.all([sender.start(0), recipient.start(0)]);

    const acked: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      if (i === 20) await a.gateway.kill();
      acked.push((await sender.send({ clientId: `kill-${i}`, recipientId: bob.uid, content: `m${i}` })).messageId);
    }
    await arrived(recipient.delivered, 60, 20_000);
    await settle(500);

    const ids = recipient.delivered.map((m) => m.id);
    expect(ids).to.deep.equal(acked);
    expect(recipient.delivered.map((m) => m.content)).to.deep.equal(acked.map((_, i) => `m${i}`));
    expect(recipient.outOfOrder).to.equal(0);
    expect(sender.currentUrl).to.equal(b.url);
    expect(recipient.currentUrl).to.equal(b.url);
  });

  it("Redis stopped for 10 s: delivery within an instance goes on, cross-instance traffic resumes, nothing acked is lost", async () => {
    const redis = await LocalRedis.start();
    try {
      const [alice, near, far] = await createUsers("alice", "near", "far");
      const config = { redisUrl: redis.url, rateLimits: { text: { limit: 100_000, windowMs: 60_000 } } };
      const one = await startGateway(config);
      const two = await startGateway(config);
      const s = await connectAs(one.url, alice.idToken);
      const n = await connectAs(one.url, near.idToken);
      const nearInbox = collect(n.socket);
      const farClient = resilient([two.url], far.idToken);
      await farClient.start();
      const farInbox = farClient.delivered;
      await sendOk(s.socket, { recipientId: near.uid, content: "before" });
      await sendOk(s.socket, { recipientId: far.uid, content: "before" });
      await arrived(farInbox, 1);

      await redis.stop();
      const duringNear = [];
      const duringFar = [];
      const outageEnds = Date.now() + 10_000;
      for (let i = 0; Date.now() < outageEnds; i += 1) {
        duringNear.push(await sendOk(s.socket, { recipientId: near.uid, content: `near ${i}` }));
        duringFar.push(await sendOk(s.socket, { recipientId: far.uid, content: `far ${i}` }));
        await settle(250);
      }
      const nearDuringOutage = nearInbox.length;
      await redis.start();
      await arrived(farInbox, 1 + duringFar.length, 15_000);
      const after = await sendOk(s.socket, { recipientId: far.uid, content: "after" });
      await arrived(farInbox, 2 + duringFar.length, 10_000);

      expect(nearDuringOutage).to.equal(1 + duringNear.length);
      expect(farInbox.map((m) => m.content)).to.deep.equal(["before", ...duringFar.map((_, i) => `far ${i}`), "after"]);
      const seqs = [...duringFar.map((x) => x.seq), after.seq];
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).to.equal(seqs.length);
      expect(n.socket.connected && farClient.connected && s.socket.connected).to.equal(true);
      expect(farClient.connects).to.equal(1); // nobody was disconnected because Redis went away
    } finally {
      await redis.stop();
    }
  });

  it("Firestore unreachable: sends answer UNAVAILABLE, nothing unstored is acked or routed, and the gateway recovers by itself", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const [direct] = process.env.FIRESTORE_EMULATOR_HOST!.split(":").slice(-1).map(Number);
    const proxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port: direct });
    await proxy.open();
    try {
      const g = await startStandalone({ FIRESTORE_EMULATOR_HOST: proxy.address, STORE_TIMEOUT_MS: "2000", CHECK_REVOKED: "false" });
      const a = await connectAs(g.url, alice.idToken);
      const b = await connectAs(g.url, bob.idToken);
      const inbox = collect(b.socket);
      const first = await sendOk(a.socket, { recipientId: bob.uid, content: "before" });

      await proxy.cut();
      const refused = await send(a.socket, { recipientId: bob.uid, clientId: "during-outage", content: "during" });
      await settle(300);
      const routedDuringOutage = inbox.map((m) => m.content);
      await proxy.open();
      const retried = await eventually(() => send(a.socket, { recipientId: bob.uid, clientId: "during-outage", content: "during" }), {
        accept: (answer) => answer.ok,
        what: "a resend to be stored",
        timeoutMs: 10_000,
        everyMs: 500,
      });

      expectError(refused, "UNAVAILABLE");
      expect(routedDuringOutage).to.deep.equal(["before"]);
      expect(retried.ok).to.equal(true);
      expect((await arrived(inbox, 2)).map((m) => m.content)).to.deep.equal(["before", "during"]);
      const stored = await firestore().collection("conversations").doc(first.conversationId).collection("messages").get();
      expect(stored.docs.map((d) => d.get("content")).sort()).to.deep.equal(["before", "during"]);
    } finally {
      await proxy.close();
    }
  });

  it("a client that stops reading is disconnected; the server does not buffer for it without limit", async () => {
    const { gateway, url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], {
      messageStore: "memory",
      maxPendingPackets: 100,
      maxBufferedBytes: 512 * 1024,
      backpressureCheckMs: 100,
      rateLimits: { text: { limit: 100_000, windowMs: 60_000 } },
    });
    const frozen = await frozenClient(url, bob.idToken);
    try {
      const [a] = await connect(alice);
      const chunk = "x".repeat(32 * 1024);
      for (let i = 0; i < 600 && gateway.io.of("/").sockets.size > 1; i += 1) await sendOk(a.socket, { recipientId: bob.uid, content: chunk, clientId: newClientId() });
      await settle(300);

      const stats = (await gateway.stats()) as unknown as { backpressure: { slowClientsDisconnected: number } };
      expect(stats.backpressure.slowClientsDisconnected).to.equal(1);
      expect([...gateway.io.of("/").sockets.values()].map((s) => s.data.uid)).to.deep.equal([alice.uid]);
      expect((await send(a.socket, { recipientId: bob.uid, content: "sender unaffected" })).ok).to.equal(true);
    } finally {
      await frozen.kill();
    }
  });
});

/** A real socket.io-client in its own process, admitted, then frozen with SIGSTOP so it reads nothing more. */
async function frozenClient(url: string, token: string): Promise<OwnedProcess> {
  const script = `
    const { io } = require("socket.io-client");
    const socket = io(${JSON.stringify(url)}, { auth: { token: ${JSON.stringify(token)} }, transports: ["websocket"], reconnection: false });
    socket.on("auth_success", () => console.log("admitted"));`;
  const child = new OwnedProcess("frozen-client", spawn(process.execPath, ["-e", script], { cwd: __dirname, stdio: ["ignore", "pipe", "pipe"], detached: true }));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client was not admitted: ${child.recentOutput()}`)), 10_000);
    child.child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("admitted")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  process.kill(child.pid!, "SIGSTOP");
  return child;
}


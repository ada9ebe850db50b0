/**
 * The chaos run: `npm run chaos` (bounded in time, loopback only, stops by itself).
 * Three standalone gateways on one Redis and one Firestore emulator; senders message their peers
 * (direct and group conversations) while the run kills gateways with SIGKILL and restarts them,
 * restarts Redis, and drops client connections. Then it waits for the clients to converge and checks
 * the promises: every acked message delivered to every recipient, none twice, none out of order.
 *   npm run chaos -- [--seconds 60] [--gateways 3] [--pairs 16]
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AuthEmulator, functionsDir } from "./auth-emulator";
import { FirestoreEmulator } from "./firestore-emulator";
import { freePort } from "./free-port";
import { OwnedProcess } from "./processes";
import { LocalRedis } from "./redis-server";
import { TalowaClient, type ChatMessage } from "../../client/src/index.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    gateways: { type: "string", default: "3" },
    pairs: { type: "string", default: "16" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
  },
});
const runSeconds = Number(values.seconds);
const gatewayCount = Number(values.gateways);
const pairCount = Number(values.pairs);
let seed = Number(values.seed);
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const projectId = "demo-talowa-chaos";
const owned: Array<{ stop(): Promise<void> | void }> = [];
const users: User[] = [];
const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface Gateway {
  port: number;
  url: string;
  process?: OwnedProcess;
}

interface User {
  uid: string;
  token: string;
  client: TalowaClient;
  /** What the client library handed the app, in order. */
  delivered: ChatMessage[];
}

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    log("hard time limit reached; client states:");
    for (const [i, u] of users.entries()) log(`  client ${i}: ${describe(u)}`);
    void shutdown(2);
  }, (runSeconds + 180) * 1000);
  hardStop.unref();
  process.on("SIGINT", () => void shutdown(130));

  const [auth, redis, firestore] = await Promise.all([AuthEmulator.start(projectId), LocalRedis.start(), FirestoreEmulator.start()]);
  owned.push(auth, redis, firestore);
  process.env.FIREBASE_AUTH_EMULATOR_HOST = auth.host;
  const gateways: Gateway[] = [];
  for (let i = 0; i < gatewayCount; i += 1) {
    const port = await freePort();
    gateways.push({ port, url: `http://127.0.0.1:${port}` });
  }
  const env = {
    ...process.env,
    FIREBASE_PROJECT_ID: projectId,
    FIREBASE_AUTH_EMULATOR_HOST: auth.host,
    FIRESTORE_EMULATOR_HOST: firestore.host,
    REDIS_URL: redis.url,
    CHECK_REVOKED: "false",
    LOG_LEVEL: "error",
    RATE_LIMITS: JSON.stringify({ text: { limit: 1_000_000, windowMs: 60_000 } }),
    PRESENCE_TTL_MS: "6000",
    HEARTBEAT_INTERVAL_MS: "2000",
    SHUTDOWN_TIMEOUT_MS: "1000",
    // Every client comes from 127.0.0.1 here and reconnects after each kill: the per-address budget is for
    // real networks. The run's group is made of strangers, so group adds are direct (no invitations).
    RATE_LIMIT_MAX_CONNECTIONS_PER_IP: "1000000",
    CONSENT_GROUP_ADDS: "anyone",
  };
  const startGateway = async (g: Gateway) => {
    g.process = OwnedProcess.start("gateway", process.execPath, [join(functionsDir, "lib", "hosts", "standalone.js")], { env: { ...env, PORT: String(g.port) } });
    await until(async () => g.process!.recentOutput().includes("listening on"), 20_000);
  };
  await Promise.all(gateways.map(startGateway));
  owned.push({ stop: () => Promise.all(gateways.map((g) => g.process?.stop(2_000))).then(() => undefined) });
  log(`${gatewayCount} gateways up; Redis ${redis.url}; Firestore (${firestore.kind}) ${firestore.host}; seed ${values.seed}`);

  for (let i = 0; i < pairCount * 2 + 4; i += 1) {
    const token = await signUp(auth.host, `chaos-${i}@talowa.test`);
    const uid = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).user_id as string;
    const client = new TalowaClient({
      url: rotate(gateways.map((g) => g.url), i),
      getToken: () => token,
      initialSync: "all",
      minReconnectDelayMs: 150,
      maxReconnectDelayMs: 2_000,
      ackTimeoutMs: 4_000,
      maxSendAttempts: 60,
      maxRetryDelayMs: 2_000,
    });
    const delivered: ChatMessage[] = [];
    client.on("message", (m) => delivered.push(m));
    users.push({ uid, token, client, delivered });
  }
  await Promise.all(users.map((u) => u.client.start().then(() => u.client.ready())));
  owned.push({ stop: () => users.forEach((u) => u.client.close()) });

  // Streams: each conversation has one sender, so "in order" is checkable per conversation.
  const streams: Array<{ sender: User; recipients: User[]; target: { recipientId?: string; conversationId?: string } }> = [];
  for (let i = 0; i < pairCount; i += 1) streams.push({ sender: users[2 * i], recipients: [users[2 * i + 1]], target: { recipientId: users[2 * i + 1].uid } });
  const groupMembers = users.slice(pairCount * 2);
  const owner = groupMembers[0];
  const group = await owner.client.createGroup({ name: "chaos", memberIds: groupMembers.slice(1).map((u) => u.uid) });
  streams.push({ sender: owner, recipients: groupMembers.slice(1), target: { conversationId: group.id } });

  const acked = new Map<string, { stream: number; seq: number }>();
  let attempted = 0;
  let failedSends = 0;
  const deadline = Date.now() + runSeconds * 1000;
  const senders = streams.map(async (stream, index) => {
    for (let n = 0; Date.now() < deadline; n += 1) {
      attempted += 1;
      try {
        const ack = await stream.sender.client.send({ clientId: `s${index}-${n}`, content: `s${index}-${n}`, ...stream.target });
        acked.set(ack.messageId, { stream: index, seq: ack.seq });
      } catch (error) {
        failedSends += 1;
        log(`send s${index}-${n} gave up: ${String(error).slice(0, 120)}`);
      }
    }
  });

  const faults = { gatewayKills: 0, redisRestarts: 0, clientDrops: 0 };
  const chaos = (async () => {
    while (Date.now() < deadline - 3_000) {
      await sleep(2_000 + random() * 2_000);
      const roll = random();
      if (roll < 0.4) {
        const g = gateways[Math.floor(random() * gateways.length)];
        log(`SIGKILL gateway :${g.port}`);
        await g.process?.kill();
        faults.gatewayKills += 1;
        await sleep(1_000 + random() * 2_000);
        await startGateway(g);
        log(`gateway :${g.port} restarted`);
      } else if (roll < 0.65) {
        log("stopping Redis");
        await redis.stop();
        faults.redisRestarts += 1;
        await sleep(1_000 + random() * 3_000);
        await redis.start();
        log("Redis restarted");
      } else {
        const victims = users.filter(() => random() < 0.3);
        for (const u of victims) u.client.reconnect();
        faults.clientDrops += victims.length;
        log(`dropped ${victims.length} client connections`);
      }
    }
  })();

  await Promise.all([...senders, chaos]);
  log(`traffic stopped: ${acked.size} acked; waiting for convergence`);
  const expected = streams.map((s, i) => ({ i, recipients: s.recipients, ids: [...acked].filter(([, a]) => a.stream === i) }));
  const converged = await until(async () => expected.every((e) => e.recipients.every((r) => e.ids.every(([id]) => r.delivered.some((m) => m.id === id)))), 60_000).then(
    () => true,
    () => false,
  );

  const report = measure(expected, acked, users, { attempted, failedSends, converged, faults });
  const text = format(report);
  process.stdout.write(text);
  const dir = join(functionsDir, "tools", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "chaos-latest.json"), JSON.stringify(report, null, 2));
  writeFileSync(join(dir, "chaos-latest.md"), text);
  clearTimeout(hardStop);
  const ok = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0 && converged;
  await shutdown(ok ? 0 : 1);
}

function measure(
  expected: Array<{ i: number; recipients: User[]; ids: Array<[string, { stream: number; seq: number }]> }>,
  acked: Map<string, unknown>,
  users: User[],
  extra: { attempted: number; failedSends: number; converged: boolean; faults: Record<string, number> },
) {
  let deliveries = 0;
  let lost = 0;
  let duplicated = 0;
  for (const e of expected) {
    for (const r of e.recipients) {
      const got = new Map<string, number>();
      for (const m of r.delivered) if (m.content.startsWith(`s${e.i}-`)) got.set(m.content, (got.get(m.content) ?? 0) + 1);
      for (const count of got.values()) if (count > 1) duplicated += count - 1;
      const ids = new Set(r.delivered.map((m) => m.id));
      for (const [id] of e.ids) (ids.has(id) ? (deliveries += 1) : (lost += 1));
    }
  }
  return {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: { seconds: runSeconds, gateways: gatewayCount, pairs: pairCount, seed: values.seed },
    sent: extra.attempted,
    acked: acked.size,
    gaveUp: extra.failedSends,
    expectedDeliveries: expected.reduce((n, e) => n + e.ids.length * e.recipients.length, 0),
    delivered: deliveries,
    lost,
    duplicated,
    outOfOrder: users.reduce((n, u) => n + outOfOrderIn(u.delivered), 0),
    redeliveriesDroppedByClients: users.reduce((n, u) => n + u.client.stats.redeliveriesDropped, 0),
    gapCatchUps: users.reduce((n, u) => n + u.client.stats.gapCatchUps, 0),
    reconnects: users.reduce((n, u) => n + u.client.stats.connects, 0) - users.length,
    converged: extra.converged,
    faults: extra.faults,
  };
}

function format(r: ReturnType<typeof measure>): string {
  return [
    "",
    `## Chaos run ${r.date}`,
    `machine: ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ${r.settings.gateways} gateways, ${r.settings.pairs} direct pairs + 1 group of 3 recipients, ${r.settings.seconds} s, seed ${r.settings.seed}`,
    `faults: ${r.faults.gatewayKills} gateway SIGKILLs, ${r.faults.redisRestarts} Redis restarts, ${r.faults.clientDrops} client connections dropped; clients reconnected ${r.reconnects} times`,
    "",
    "| sent | acked | gave up | expected deliveries | delivered | lost | duplicated | out of order | redeliveries dropped by clients (by id) | converged |",
    "|---|---|---|---|---|---|---|---|---|---|",
    `| ${r.sent} | ${r.acked} | ${r.gaveUp} | ${r.expectedDeliveries} | ${r.delivered} | ${r.lost} | ${r.duplicated} | ${r.outOfOrder} | ${r.redeliveriesDroppedByClients} | ${r.converged} |`,
    "",
    "lost = acked but never delivered to a recipient; duplicated = one sent message (its content names it) handed to the app twice; out of order = a message reaching the app below a seq it already had.",
    "",
  ].join("\n");
}

/** Messages that reached the app below a seq it already had in their conversation (counted here, not trusted from the client). */
function outOfOrderIn(delivered: ChatMessage[]): number {
  const highest = new Map<string, number>();
  let count = 0;
  for (const m of delivered) {
    if (m.seq < (highest.get(m.conversationId) ?? 0)) count += 1;
    highest.set(m.conversationId, Math.max(highest.get(m.conversationId) ?? 0, m.seq));
  }
  return count;
}

function describe(u: User): string {
  return `state=${u.client.state} url=${u.client.url} delivered=${u.delivered.length} pending=${u.client.pendingSends().length} stats=${JSON.stringify(u.client.stats)}`;
}

async function signUp(authHost: string, email: string): Promise<string> {
  const res = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "chaos-password", returnSecureToken: true }),
  });
  const body = (await res.json()) as { idToken?: string };
  if (!body.idToken) throw new Error(`sign-up failed: ${JSON.stringify(body)}`);
  return body.idToken;
}

function rotate<T>(list: T[], by: number): T[] {
  return list.map((_, i) => list[(i + by) % list.length]);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const item of owned.reverse()) await Promise.resolve(item.stop()).catch(() => undefined);
  process.exit(code);
}

main().catch(async (error) => {
  process.stderr.write(`chaos run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  await shutdown(1);
});

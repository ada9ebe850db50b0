/**
 * `npm run abuse` (issue 12): the abuses of the issue against a gateway with its default limits, each for
 * a bounded time, while a bystander pair messages every 100 ms; prints and writes a table of the bystander's
 * send latency (p50/p99) per abuse and what the abuser got back (answer codes).
 * Loopback only; starts its own Auth emulator, Firestore (the in-process emulator), redis-server and one
 * gateway process (src/hosts/standalone.ts through ts-node), and stops all of them when done (~2-3 min).
 *   ABUSE_SECONDS   seconds per abuse (default 10)
 *   results: bench/results/abuse-latest.{json,md}; docs/ABUSE.md quotes a run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { io, Socket } from "socket.io-client";
import { AuthEmulator, functionsDir } from "../tools/auth-emulator";
import { FirestoreEmulator } from "../tools/firestore-emulator";
import { freePort, waitFor } from "../tools/free-port";
import { OwnedProcess } from "../tools/processes";
import { LocalRedis } from "../tools/redis-server";
import { junkGenerator, prng } from "../test/support/fuzz";
import { createUsers } from "./lib/users";
import type { BenchUser } from "./lib/ipc";

const projectId = "demo-talowa-abuse";
const SECONDS = Number(process.env.ABUSE_SECONDS || 10);
const BYSTANDER_EVERY_MS = 100;
/** The bystanders' own text budget (60/min by default) is lifted: the run measures their latency, not their limit. */
const GATEWAY_ENV = { RATE_LIMITS: JSON.stringify({ text: { limit: 100_000, windowMs: 60_000 } }) };

type Answer = { ok: boolean; error?: { code: string } };
interface Row {
  abuse: string;
  what: string;
  bystander: { sent: number; failed: number; p50: number | null; p99: number | null; max: number | null };
  abuser: Record<string, number>;
}

async function main(): Promise<void> {
  const started = Date.now();
  const stack = await startStack();
  try {
    const [abuser, alice, bob, victim, friend, forcer] = await createUsers(stack.auth.host, 6, { prefix: `abuse-${Date.now().toString(36)}` });
    const a = await connect(stack.url, abuser);
    // A second account (accounts are free): create_group_flood has spent the first one's create_group budget.
    const f = await connect(stack.url, forcer);
    const [x, y] = [await connect(stack.url, alice), await connect(stack.url, bob)];
    // Connected now: after sockets_1000 this address has spent its connection-attempt budget for a minute.
    const victimSocket = await connect(stack.url, victim);
    const own = (await ask(a, "send_message", { clientId: "abuser-0", type: "text", recipientId: friend.uid, content: "mine" })) as Answer & { conversationId?: string };
    const abuses: Array<[string, string, () => Promise<Record<string, number>>]> = [
      ["baseline", "no abuse", async () => (await new Promise((r) => setTimeout(r, SECONDS * 1000)), {})],
      ["presence_queries", "get_presence of 500 unknown ids, 10 calls in flight", () => flood(() => ask(a, "get_presence", { userIds: ids("unknown", 500) }), 10)],
      ["history_flood", "fetch_history of its own conversation, 10 in flight", () => flood(() => ask(a, "fetch_history", { conversationId: own.conversationId, limit: 100 }), 10)],
      ["mark_read_flood", "mark_read, 20 in flight", () => flood(() => ask(a, "mark_read", { conversationId: own.conversationId, upToSeq: 1 }), 20)],
      ["create_group_flood", "create_group naming 50 unknown users, 10 in flight", () => flood(() => ask(a, "create_group", { name: "flood", memberIds: ids("ghost", 50) }), 10)],
      ["sockets_1000", "1,000 sockets of one user, 50 opening at once", () => manySockets(stack.url, abuser, 1_000, 50)],
      ["forced_groups", "create_group with the victim as member, 10 in flight", () => flood(() => ask(f, "create_group", { name: "forced", memberIds: [victim.uid] }), 10)],
      ["fuzz", "seeded malformed events, 64 in flight", () => fuzz(a)],
    ];
    const rows: Row[] = [];
    for (const [abuse, what, run] of abuses) {
      const bystander = measureBystander(x, y, bob);
      const abuser = await run();
      rows.push({ abuse, what, bystander: await bystander.stop(), abuser });
      process.stdout.write(`${abuse}: bystander p50 ${rows.at(-1)!.bystander.p50} ms, p99 ${rows.at(-1)!.bystander.p99} ms; abuser ${JSON.stringify(abuser)}\n`);
    }
    const victimConversations = (await ask(victimSocket, "list_conversations", {})) as Answer & { conversations?: unknown[] };
    const victimInvitations = (await ask(victimSocket, "list_invitations", {})) as Answer & { invitations?: unknown[] };
    const report = {
      machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { secondsPerAbuse: SECONDS, bystanderEveryMs: BYSTANDER_EVERY_MS, gatewayEnv: GATEWAY_ENV, defaultsOtherwise: true },
      rows,
      victimAfterForcedGroups: { conversations: victimConversations.conversations?.length ?? null, invitations: victimInvitations.invitations?.length ?? null },
      durationS: Math.round((Date.now() - started) / 1000),
    };
    const dir = join(functionsDir, "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "abuse-latest.json"), JSON.stringify(report, null, 2) + "\n");
    writeFileSync(join(dir, "abuse-latest.md"), markdown(report));
    process.stdout.write(`\n${markdown(report)}`);
  } finally {
    await stack.stop();
  }
}

function ids(prefix: string, n: number): string[] {
  const salt = Math.random().toString(36).slice(2, 6);
  return Array.from({ length: n }, (_, i) => `${prefix}-${salt}-${i}`);
}

async function startStack() {
  const [auth, firestore, redis] = await Promise.all([AuthEmulator.start(projectId), FirestoreEmulator.start(), LocalRedis.start()]);
  const port = await freePort();
  const gateway = OwnedProcess.start("abuse-gateway", process.execPath, ["-r", "ts-node/register/transpile-only", join(functionsDir, "src", "hosts", "standalone.ts")], {
    cwd: functionsDir,
    env: {
      ...process.env,
      ...GATEWAY_ENV,
      PORT: String(port),
      HOST: "127.0.0.1",
      TRANSPORTS: "websocket",
      REDIS_URL: redis.url,
      FIREBASE_PROJECT_ID: projectId,
      GCLOUD_PROJECT: projectId,
      FIREBASE_AUTH_EMULATOR_HOST: auth.host,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      LOG_LEVEL: "error",
      METADATA_SERVER_DETECTION: "none",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, "the gateway", 60_000);
  return {
    auth,
    url,
    stop: async () => {
      await gateway.stop(10_000).catch(() => undefined);
      await Promise.allSettled([auth.stop(), redis.stop(), Promise.resolve(firestore.stop())]);
    },
  };
}

function connect(url: string, user: BenchUser): Promise<Socket> {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, auth: { token: user.token } });
  return new Promise((resolve, reject) => {
    socket.once("auth_success", () => resolve(socket));
    socket.once("connect_error", (error) => reject(error));
  });
}

function ask(socket: Socket, event: string, ...args: unknown[]): Promise<Answer> {
  return socket.timeout(15_000).emitWithAck(event, ...args).catch((): Answer => ({ ok: false, error: { code: "TIMEOUT" } }));
}

function count(codes: Record<string, number>, answer: Answer): void {
  const code = answer.ok ? "OK" : (answer.error?.code ?? "NO_CODE");
  codes[code] = (codes[code] ?? 0) + 1;
}

/** `inFlight` lanes calling `call` back to back for SECONDS; the answer codes. */
async function flood(call: () => Promise<Answer>, inFlight: number): Promise<Record<string, number>> {
  const until = Date.now() + SECONDS * 1000;
  const codes: Record<string, number> = {};
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (Date.now() < until) count(codes, await call());
  }));
  return codes;
}

async function manySockets(url: string, user: BenchUser, total: number, atOnce: number): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  const open: Socket[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: atOnce }, async () => {
    while (next < total) {
      next += 1;
      try {
        open.push(await connect(url, user));
        count(codes, { ok: true });
      } catch (error) {
        count(codes, { ok: false, error: { code: (error as { data?: { code?: string } }).data?.code ?? "CONNECT_ERROR" } });
      }
    }
  }));
  const hold = Math.max(0, SECONDS * 1000 - 2_000);
  await new Promise((r) => setTimeout(r, hold));
  for (const socket of open) socket.disconnect();
  return codes;
}

async function fuzz(socket: Socket): Promise<Record<string, number>> {
  const junk = junkGenerator(prng(20261202));
  return flood(() => ask(socket, junk.event(), ...junk.args()), 64);
}

/** Alice sends Bob a text every 100 ms; send → ack latency. */
function measureBystander(alice: Socket, _bob: Socket, bob: BenchUser) {
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const timer = setInterval(() => {
    sent += 1;
    const at = performance.now();
    pending.push(
      ask(alice, "send_message", { clientId: `by-${Date.now()}-${sent}`, type: "text", recipientId: bob.uid, content: "still here?" }).then((answer) => {
        if (answer.ok) latencies.push(performance.now() - at);
        else failed += 1;
      }),
    );
  }, BYSTANDER_EVERY_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
      const sorted = [...latencies].sort((p, q) => p - q);
      const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10 : null);
      return { sent, failed, p50: at(0.5), p99: at(0.99), max: at(1) };
    },
  };
}

function markdown(report: { machine: Record<string, unknown>; settings: Record<string, unknown>; rows: Row[]; victimAfterForcedGroups: Record<string, unknown>; durationS: number }): string {
  const lines = [
    `Machine: ${report.machine.nproc} × ${report.machine.cpu}, ${report.machine.memGiB} GiB, Node ${report.machine.node}. ${SECONDS} s per abuse, bystander send every ${BYSTANDER_EVERY_MS} ms. Run took ${report.durationS} s.`,
    "",
    "| abuse | what the abuser does | bystander sends (failed) | p50 ms | p99 ms | max ms | what the abuser got back |",
    "|---|---|---|---|---|---|---|",
    ...report.rows.map((r) => `| ${r.abuse} | ${r.what} | ${r.bystander.sent} (${r.bystander.failed}) | ${r.bystander.p50} | ${r.bystander.p99} | ${r.bystander.max} | ${Object.entries(r.abuser).map(([k, v]) => `${k} ${v}`).join(", ") || "—"} |`),
    "",
    `Victim after forced_groups: ${report.victimAfterForcedGroups.conversations} conversations, ${report.victimAfterForcedGroups.invitations} invitations listed (at most 100).`,
    "",
  ];
  return lines.join("\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`abuse run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

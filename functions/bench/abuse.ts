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
    const users = await createUsers(stack.auth.host, 4 + ABUSES.length, { prefix: `abuse-${Date.now().toString(36)}` });
    const [alice, bob, victim, friend] = users;
    const [x, y] = [await connect(stack.url, alice, BYSTANDER_ADDRESS), await connect(stack.url, bob, BYSTANDER_ADDRESS)];
    const victimSocket = await connect(stack.url, victim, BYSTANDER_ADDRESS);
    const rows: Row[] = [];
    for (const [i, [abuse, what, run]] of ABUSES.entries()) {
      // Accounts are free: each abuse comes from an account and an address of its own, so the budgets one
      // abuse spent do not decide the next; within its phase the abuser reconnects whenever it is cut off.
      const abuser = new Abuser(stack.url, users[4 + i], `127.0.0.${10 + i}`);
      const context = { url: stack.url, abuser, friend, victim };
      await abuser.prepare(context);
      const bystander = measureBystander(x, y, bob);
      await run(context);
      abuser.close();
      rows.push({ abuse, what, bystander: await bystander.stop(), abuser: abuser.codes });
      process.stdout.write(`${abuse}: bystander p50 ${rows.at(-1)!.bystander.p50} ms, p99 ${rows.at(-1)!.bystander.p99} ms; abuser ${JSON.stringify(abuser.codes)}\n`);
    }
    const victimConversations = (await ask(victimSocket, "list_conversations", {})) as Answer & { conversations?: unknown[] };
    const victimInvitations = (await ask(victimSocket, "list_invitations", {})) as Answer & { invitations?: unknown[] };
    const report = {
      machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { secondsPerAbuse: SECONDS, bystanderEveryMs: BYSTANDER_EVERY_MS, gatewayEnv: GATEWAY_ENV, defaultsOtherwise: true, abuserReconnects: true },
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

interface AbuseContext {
  url: string;
  abuser: Abuser;
  friend: BenchUser;
  victim: BenchUser;
}

const ABUSES: Array<[string, string, (c: AbuseContext) => Promise<unknown>]> = [
  ["baseline", "no abuse", async () => new Promise((r) => setTimeout(r, SECONDS * 1000))],
  ["presence_queries", "get_presence of 500 unknown ids, 10 calls in flight", ({ abuser }) => flood(() => abuser.ask("get_presence", { userIds: ids("unknown", 500) }), 10)],
  ["history_flood", "fetch_history of its own conversation, 10 in flight", ({ abuser }) => flood(() => abuser.ask("fetch_history", { conversationId: abuser.conversationId, limit: 100 }), 10)],
  ["mark_read_flood", "mark_read, 20 in flight", ({ abuser }) => flood(() => abuser.ask("mark_read", { conversationId: abuser.conversationId, upToSeq: 1 }), 20)],
  ["create_group_flood", "create_group naming 50 unknown users, 10 in flight", ({ abuser }) => flood(() => abuser.ask("create_group", { name: "flood", memberIds: ids("ghost", 50) }), 10)],
  ["forced_groups", "create_group with the victim as member, 10 in flight", ({ abuser, victim }) => flood(() => abuser.ask("create_group", { name: "forced", memberIds: [victim.uid] }), 10)],
  ["fuzz", "seeded malformed events, 64 in flight", ({ abuser }) => fuzz(abuser)],
  ["sockets_1000", "1,000 sockets of one user, 50 opening at once", ({ abuser }) => manySockets(abuser, 1_000, 50)],
];
/** The bystanders' address; each abuser has one of its own (127.0.0.10 and up). */
const BYSTANDER_ADDRESS = "127.0.0.2";
/** An abuser refused at reconnect tries again after this long (it ignores retryAfterMs). */
const RECONNECT_PAUSE_MS = 100;

/**
 * One abusive account that does not give up: whenever the gateway cuts it off (session_ended CALL_FLOOD), it
 * reconnects at once, and keeps trying while refused. Every answer, cut-off and refused reconnect is counted.
 */
class Abuser {
  readonly codes: Record<string, number> = {};
  conversationId?: string;
  private socket?: Socket;
  private connecting?: Promise<Socket | undefined>;
  private closed = false;

  constructor(
    private readonly url: string,
    readonly user: BenchUser,
    private readonly address: string,
  ) {}

  /** Connects and starts a conversation of its own (for the history and mark_read floods). */
  async prepare({ friend }: AbuseContext): Promise<void> {
    const socket = await this.connected();
    if (!socket) throw new Error("the abuser could not connect before its abuse");
    const own = (await ask(socket, "send_message", { clientId: `abuser-${this.user.uid}`, type: "text", recipientId: friend.uid, content: "mine" })) as Answer & { conversationId?: string };
    this.conversationId = own.conversationId;
  }

  async ask(event: string, ...args: unknown[]): Promise<void> {
    const socket = await this.connected();
    if (!socket) return;
    const answer = await ask(socket, event, ...args);
    count(this.codes, !answer.ok && !socket.connected ? { ok: false, error: { code: "CUT_OFF_IN_FLIGHT" } } : answer);
  }

  /** A connection of this account from its own address (for sockets_1000): the connect answer. */
  connectAnother(): Promise<Socket> {
    return connect(this.url, this.user, this.address);
  }

  close(): void {
    this.closed = true;
    this.socket?.disconnect();
  }

  private connected(): Promise<Socket | undefined> {
    if (this.socket?.connected) return Promise.resolve(this.socket);
    this.connecting ??= this.reconnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async reconnect(): Promise<Socket | undefined> {
    if (this.closed) return undefined;
    try {
      const socket = await connect(this.url, this.user, this.address);
      socket.on("session_ended", ({ reason }: { reason: string }) => count(this.codes, { ok: false, error: { code: `session_ended ${reason}` } }));
      if (this.socket) count(this.codes, { ok: false, error: { code: "reconnected" } });
      return (this.socket = socket);
    } catch (error) {
      count(this.codes, { ok: false, error: { code: `reconnect refused ${(error as { data?: { code?: string } }).data?.code ?? "CONNECT_ERROR"}` } });
      await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
      return undefined;
    }
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

function connect(url: string, user: BenchUser, localAddress: string): Promise<Socket> {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, auth: { token: user.token }, localAddress } as Parameters<typeof io>[1]);
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

/** `inFlight` lanes calling `call` back to back for SECONDS (the abuser counts the answers). */
async function flood(call: () => Promise<void>, inFlight: number): Promise<void> {
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (Date.now() < until) await call();
  }));
}

async function manySockets(abuser: Abuser, total: number, atOnce: number): Promise<void> {
  const codes = abuser.codes;
  const open: Socket[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: atOnce }, async () => {
    while (next < total) {
      next += 1;
      try {
        open.push(await abuser.connectAnother());
        count(codes, { ok: true });
      } catch (error) {
        count(codes, { ok: false, error: { code: (error as { data?: { code?: string } }).data?.code ?? "CONNECT_ERROR" } });
      }
    }
  }));
  const hold = Math.max(0, SECONDS * 1000 - 2_000);
  await new Promise((r) => setTimeout(r, hold));
  for (const socket of open) socket.disconnect();
}

function fuzz(abuser: Abuser): Promise<void> {
  const junk = junkGenerator(prng(20261202));
  return flood(() => abuser.ask(junk.event(), ...junk.args()), 64);
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

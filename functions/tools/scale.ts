/**
 * Scale measurement: `npm run scale` (functions/) or `npm run scale` (repository root).
 *
 * Runs 1, 2 and 4 standalone gateway processes on one private Redis, spreads real clients (Auth-emulator
 * ID tokens) evenly over them from separate load-generator processes, sends direct messages at one fixed
 * total rate (each client to a peer on another instance whenever there are several), and reports per
 * instance the CPU time per delivered message and the Redis CPU per message: with the sharded adapter an
 * instance's cost follows its own share of the traffic, not the fleet's total.
 *
 *   npm run scale -- [--instances 1,2,4] [--rate 600] [--per-instance-rate 300] [--users 400]
 *                    [--generators 2] [--warm 2] [--measure 8] [--adapter sharded,classic]
 *
 * Two series per adapter: the same total rate for every N (--rate), and the same rate per instance
 * (--per-instance-rate × N; 0 leaves it out). The defaults suit a shared 2-core machine; on a quiet one
 * try --rate 2000 --per-instance-rate 1000.
 *
 * Bounded: every point runs a fixed window; the whole run stops by itself (hard deadline 290 s); loopback
 * only; it ends only the processes it started, by PID, also on error and Ctrl-C.
 * Results: tools/results/scale-latest.md and .json.
 */
import Redis from "ioredis";
import { execFileSync, fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AuthEmulator, functionsDir } from "./auth-emulator";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";
import { LocalRedis, redisServerInstalled } from "./redis-server";
import type { ChildMessage, LoadClient, ParentMessage, TotalsReport, WindowReport } from "./scale-load";
import {
  blocks,
  commandStats,
  commandStatsDelta,
  cpuTicksFromStat,
  InstanceResult,
  keptUp,
  machineTicksFromProcStat,
  markdownReport,
  MachineInfo,
  parseRedisInfo,
  readBytesFromIo,
  percentile,
  placement,
  PointResult,
  redisCpuMicros,
  ScaleReport,
} from "./scale-report";

const HARD_DEADLINE_MS = 290_000;
const RATE_LIMITS = JSON.stringify({ text: { limit: 1_000_000, windowMs: 60_000 } });
const CONTENT_BYTES = 64 + 22; // "t=<ns>;" + 64 bytes of padding (tools/scale-load.ts)
const gatewayEntry = join(functionsDir, "lib", "hosts", "standalone.js");
const loadEntry = join(__dirname, "scale-load.ts");
const resultsDir = join(__dirname, "results");

type AdapterName = "sharded" | "classic";

const { values: args } = parseArgs({
  options: {
    instances: { type: "string", default: "1,2,4" },
    rate: { type: "string", default: "600" },
    "per-instance-rate": { type: "string", default: "300" },
    users: { type: "string", default: "400" },
    generators: { type: "string", default: "2" },
    warm: { type: "string", default: "2" },
    measure: { type: "string", default: "8" },
    adapter: { type: "string", default: "sharded,classic" },
  },
});

const settings = {
  instances: list(args.instances!).map(Number),
  rate: positive("rate", args.rate!),
  perInstanceRate: Number(args["per-instance-rate"]),
  users: positive("users", args.users!),
  generators: positive("generators", args.generators!),
  warmS: positive("warm", args.warm!),
  measureS: positive("measure", args.measure!),
  adapters: list(args.adapter!) as AdapterName[],
};

const owned = new Set<OwnedProcess>();
const stoppers: Array<() => Promise<void>> = [];
let clkTck = 100;

async function main(): Promise<void> {
  validateSettings();
  if (!redisServerInstalled()) throw new Error("redis-server is not installed (Debian: apt-get install redis-server)");
  clkTck = clockTicksPerSecond();
  const startedAt = Date.now();

  const authHost = await chooseAuthEmulator();
  const redisServer = await LocalRedis.start();
  stoppers.unshift(() => redisServer.stop());
  const redis = new Redis(redisServer.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  stoppers.unshift(async () => void redis.disconnect());

  log(`creating ${settings.users} users in the Auth emulator (${authHost}); starting ${settings.generators} load generators`);
  const generatorCount = Math.min(settings.generators, settings.users);
  const [users, generators] = await Promise.all([
    createUsers(authHost, settings.users),
    Promise.all(Array.from({ length: generatorCount }, (_, g) => startGenerator(g))),
  ]);
  stoppers.unshift(async () => void (await Promise.all(generators.map((gen) => closeGenerator(gen)))));
  const projectId = audienceOf(users[0].token);

  const machine = await machineInfo(redis);
  const points: PointResult[] = [];
  for (const { adapter, instances, rates } of plannedFleets()) {
    points.push(...(await runFleet({ adapter, instances, rates, users, generators, authHost, projectId, redis, redisUrl: redisServer.url })));
  }

  const report: ScaleReport = {
    machine,
    settings: {
      users: settings.users,
      generators: settings.generators,
      warmS: settings.warmS,
      measureS: settings.measureS,
      contentBytes: CONTENT_BYTES,
      rateLimits: RATE_LIMITS,
    },
    points,
    durationS: (Date.now() - startedAt) / 1000,
  };
  mkdirSync(resultsDir, { recursive: true });
  const markdown = markdownReport(report);
  writeFileSync(join(resultsDir, "scale-latest.md"), markdown);
  writeFileSync(join(resultsDir, "scale-latest.json"), JSON.stringify(report, null, 2) + "\n");
  process.stdout.write(`\n${markdown}\nWritten to ${join(resultsDir, "scale-latest.md")} and .json\n`);
}

// --- one point: N instances at one total rate --------------------------------------------------

interface FleetInput {
  adapter: AdapterName;
  instances: number;
  rates: number[];
  users: Array<{ uid: string; token: string }>;
  generators: OwnedProcess[];
  authHost: string;
  projectId: string;
  redis: Redis;
  redisUrl: string;
}

/** One fleet (adapter, N instances, all clients connected, every conversation made), measured at each rate in turn. */
async function runFleet(input: FleetInput): Promise<PointResult[]> {
  const { adapter, instances, rates, users, redis, generators } = input;
  const phase = phases(`${adapter} N=${instances}`);
  await redis.flushall();
  const gateways = await Promise.all(Array.from({ length: instances }, (_, i) => startGateway(i, input)));
  phase("gateways listening");
  try {
    const place = placement(users.length, instances);
    const clients: LoadClient[] = users.map((u, i) => ({
      index: i,
      uid: u.uid,
      token: u.token,
      url: gateways[place[i].instance].url,
      instance: place[i].instance,
      peerUid: users[place[i].peer].uid,
    }));
    const parts = blocks(clients.length, generators.length);

    const connected = await Promise.all(
      generators.map((gen, g) => ask(gen, { type: "connect", clients: clients.slice(...parts[g]), instances }, "connected", 60_000)),
    );
    const notConnected = connected.reduce((sum, c) => sum + (c.type === "connected" ? c.failed : 0), 0);
    if (notConnected > 0) throw new Error(`${notConnected} clients could not connect: ${connected.map((c) => (c.type === "connected" ? c.firstError : "")).join(" ")}`);
    await waitForSubscriptions(redis, adapter, users.length, instances);
    phase(`${users.length} clients connected and subscribed`);

    const primed = await Promise.all(generators.map((gen) => ask(gen, { type: "prime" }, "primed", 60_000)));
    const primeFailed = primed.reduce((sum, p) => sum + (p.type === "primed" ? p.failed : 0), 0);
    if (primeFailed > 0) throw new Error(`${primeFailed} first messages failed: ${primed.map((p) => (p.type === "primed" ? p.firstError : "")).join(" ")}`);
    phase("conversations created (one message per client)");

    const points: PointResult[] = [];
    let totalsBefore = await totalsOf(generators);
    for (const rate of rates) {
      await Promise.all(generators.map((gen, g) => ask(gen, { type: "rate", perSecond: (rate * (parts[g][1] - parts[g][0])) / users.length }, "rate-set")));
      await sleep(settings.warmS * 1000);

      const before = await snapshot(gateways.map((g) => g.process.pid!), redis);
      await Promise.all(generators.map((gen) => ask(gen, { type: "window", phase: "begin" }, "window")));
      await sleep(settings.measureS * 1000);
      const windows = (await Promise.all(generators.map((gen) => ask(gen, { type: "window", phase: "end" }, "window")))) as WindowReport[];
      const after = await snapshot(gateways.map((g) => g.process.pid!), redis);

      await Promise.all(generators.map((gen) => ask(gen, { type: "rate", perSecond: 0 }, "rate-set")));
      const totalsAfter = await drain(generators);
      phase(`${rate} msg/s measured and drained`);
      const point = summarise({ adapter, instances, rate }, before, after, windows, totalsBefore, totalsAfter);
      totalsBefore = totalsAfter;
      log(
        `${adapter} N=${instances} ${rate} msg/s: delivered ${Math.round(point.fleet.deliveredPerS)} msg/s, µs/msg per instance ` +
          `${point.perInstance.map((i) => Math.round(i.cpuMicrosPerDelivered)).join("/")}, Redis ${point.redis.cpuMicrosPerDelivered.toFixed(1)} µs/msg, ` +
          `p99 ${point.latencyMs.deliveryP99.toFixed(1)} ms, lost ${point.loss.lost}, machine busy ${Math.round(point.machine.busyPercent)}%`,
      );
      points.push(point);
    }
    return points;
  } finally {
    await Promise.all(generators.filter((gen) => gen.alive).map((gen) => ask(gen, { type: "disconnect" }, "disconnected").catch(() => undefined)));
    await Promise.all(gateways.map((g) => stopOwned(g.process, 5_000)));
  }
}

async function startGateway(i: number, input: FleetInput): Promise<{ process: OwnedProcess; url: string }> {
  const port = await freePort();
  const gateway = own(
    OwnedProcess.start(`gateway-${i}`, process.execPath, [gatewayEntry], {
      cwd: functionsDir,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        TRANSPORTS: "websocket",
        REDIS_URL: input.redisUrl,
        SOCKET_ADAPTER: input.adapter,
        MESSAGE_STORE: "memory",
        CHECK_REVOKED: "false",
        RATE_LIMITS,
        // every simulated user connects from loopback: the per-IP admission rate would measure itself
        RATE_LIMIT_MAX_CONNECTIONS_PER_IP: "1000000000",
        FIREBASE_PROJECT_ID: input.projectId,
        FIREBASE_AUTH_EMULATOR_HOST: input.authHost,
        INSTANCE_ID: `scale-${input.adapter}-${input.instances}-${i}`,
        SHUTDOWN_TIMEOUT_MS: "1000",
        LOG_LEVEL: "warn",
        METADATA_SERVER_DETECTION: "none",
      },
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const check = () => (gateway.recentOutput().includes("listening on") ? resolve() : undefined);
    gateway.child.stdout?.on("data", check);
    gateway.child.once("exit", () => reject(new Error(`gateway-${i} exited:\n${gateway.recentOutput()}`)));
    setTimeout(() => reject(new Error(`gateway-${i} did not listen within 20 s:\n${gateway.recentOutput()}`)), 20_000).unref();
    check();
  });
  return { process: gateway, url: `http://127.0.0.1:${port}` };
}

function startGenerator(g: number): OwnedProcess {
  const child = fork(loadEntry, [], {
    cwd: functionsDir,
    execArgv: ["-r", "ts-node/register/transpile-only"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });
  return own(new OwnedProcess(`load-${g}`, child));
}

/** Sends a message to a generator and resolves with its next reply of `type` (an error reply rejects). */
function ask(gen: OwnedProcess, message: ParentMessage, type: ChildMessage["type"], timeoutMs = 20_000): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${gen.name}: no "${type}" within ${timeoutMs} ms\n${gen.recentOutput()}`)), timeoutMs);
    const onMessage = (raw: unknown) => {
      const reply = raw as ChildMessage;
      if (reply.type === "error") finish(new Error(`${gen.name}: ${reply.message}`));
      else if (reply.type === type) finish(undefined, reply);
    };
    const onExit = () => finish(new Error(`${gen.name} exited:\n${gen.recentOutput()}`));
    const finish = (error?: Error, reply?: ChildMessage) => {
      clearTimeout(timer);
      gen.child.off("message", onMessage);
      gen.child.off("exit", onExit);
      if (error) reject(error);
      else resolve(reply!);
    };
    gen.child.on("message", onMessage);
    gen.child.once("exit", onExit);
    gen.child.send(message);
  });
}

async function closeGenerator(gen: OwnedProcess): Promise<void> {
  if (gen.alive && gen.child.connected) gen.child.send({ type: "close" } satisfies ParentMessage);
  const exited = new Promise<void>((resolve) => (gen.alive ? gen.child.once("exit", () => resolve()) : resolve()));
  const late = sleep(3_000).then(() => "late" as const);
  if ((await Promise.race([exited, late])) === "late") await gen.kill();
  owned.delete(gen);
}

/** Every user room has its channel (sharded) or every instance its pattern (classic) before any message. */
async function waitForSubscriptions(redis: Redis, adapter: AdapterName, users: number, instances: number): Promise<void> {
  await waitFor(
    async () => {
      if (adapter === "classic") {
        // NUMPAT counts distinct patterns; every instance subscribes the same one, so count the clients.
        const clients = String(await redis.call("CLIENT", "LIST", "TYPE", "pubsub"));
        return clients.split("\n").filter((line) => /\bpsub=[1-9]/.test(line)).length >= instances;
      }
      const channels = (await redis.call("PUBSUB", "SHARDCHANNELS", "socket.io#/#user:*")) as string[];
      return channels.length >= users;
    },
    "the adapter's subscriptions",
    20_000,
    50,
  );
}

function totalsOf(generators: OwnedProcess[]): Promise<TotalsReport[]> {
  return Promise.all(generators.map((gen) => ask(gen, { type: "totals" }, "totals"))) as Promise<TotalsReport[]>;
}

/** Until every acknowledged message was delivered (or 5 s passed): the totals for the loss check. */
async function drain(generators: OwnedProcess[]): Promise<TotalsReport[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const totals = await totalsOf(generators);
    const acked = totals.reduce((s, t) => s + t.ackedOk, 0);
    const delivered = totals.reduce((s, t) => s + t.delivered, 0);
    const outstanding = totals.reduce((s, t) => s + t.outstanding, 0);
    if ((outstanding === 0 && delivered >= acked) || Date.now() > deadline) return totals;
    await sleep(100);
  }
}

// --- measuring ---------------------------------------------------------------------------------

interface Snapshot {
  atNs: bigint;
  instanceTicks: number[];
  /** Bytes each instance read from all its sockets (clients and Redis), /proc/<pid>/io rchar. */
  instanceReadBytes: number[];
  redisOutBytes: number;
  redisCpuMicros: number;
  pids: number[];
  commands: ReturnType<typeof commandStats>;
  machine: { busy: number; total: number };
}

async function snapshot(pids: number[], redis: Redis): Promise<Snapshot> {
  const info = parseRedisInfo(await redis.info("all"));
  return {
    atNs: process.hrtime.bigint(),
    instanceTicks: pids.map((pid) => cpuTicksFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"))),
    instanceReadBytes: pids.map((pid) => readBytesFromIo(readFileSync(`/proc/${pid}/io`, "utf8"))),
    redisOutBytes: Number(info.get("total_net_output_bytes")),
    redisCpuMicros: redisCpuMicros(info),
    pids,
    commands: commandStats(info),
    machine: machineTicksFromProcStat(readFileSync("/proc/stat", "utf8")),
  };
}

function summarise(
  input: { adapter: AdapterName; instances: number; rate: number },
  before: Snapshot,
  after: Snapshot,
  windows: WindowReport[],
  totalsBefore: TotalsReport[],
  totalsAfter: TotalsReport[],
): PointResult {
  const windowS = Number(after.atNs - before.atNs) / 1e9;
  const ticksToMs = (ticks: number) => (ticks * 1000) / clkTck;
  const perInstance: InstanceResult[] = before.instanceTicks.map((t0, i) => {
    const cpuMs = ticksToMs(after.instanceTicks[i] - t0);
    const delivered = sum(windows.map((w) => w.deliveredByInstance[i] ?? 0));
    const sent = sum(windows.map((w) => w.ackedByInstance[i] ?? 0));
    const readBytes = after.instanceReadBytes[i] - before.instanceReadBytes[i];
    return { instance: i, pid: before.pids[i], readBytesPerDelivered: readBytes / delivered, cpuMs, cpuPercent: (cpuMs / 10) / windowS, delivered, sent, cpuMicrosPerDelivered: (cpuMs * 1000) / delivered };
  });
  const delivered = sum(perInstance.map((i) => i.delivered));
  const fleetCpuMs = sum(perInstance.map((i) => i.cpuMs));
  const redisCpuMs = (after.redisCpuMicros - before.redisCpuMicros) / 1000;
  const redisMicrosPerMsg = (redisCpuMs * 1000) / delivered;
  const generatorCpuMs = sum(windows.map((w) => w.cpuMicros)) / 1000;
  const machineBusy = after.machine.busy - before.machine.busy;
  const machineTotal = after.machine.total - before.machine.total;
  const cores = cpus().length;
  const ourMs = fleetCpuMs + redisCpuMs + generatorCpuMs;
  const deliveries = windows.flatMap((w) => w.deliveryLatencyMs);
  const acks = windows.flatMap((w) => w.ackLatencyMs);
  // Whole-fleet counts since the previous point (drained before and after), for the loss check.
  const since = (field: "sent" | "ackedOk" | "ackFailed" | "delivered" | "duplicates") =>
    sum(totalsAfter.map((t) => t[field])) - sum(totalsBefore.map((t) => t[field]));
  const ackErrors: Record<string, number> = {};
  for (const t of totalsAfter) for (const [code, n] of Object.entries(t.ackErrors)) ackErrors[code] = (ackErrors[code] ?? 0) + n;
  for (const t of totalsBefore) for (const [code, n] of Object.entries(t.ackErrors)) ackErrors[code] -= n;
  const ackedOk = since("ackedOk");
  const deliveredTotal = since("delivered");
  const duplicates = since("duplicates");
  return {
    adapter: input.adapter,
    instances: input.instances,
    targetRate: input.rate,
    windowS,
    keptUp: keptUp(input.rate, delivered / windowS, sum(windows.map((w) => w.skipped))),
    perInstance,
    fleet: { cpuMs: fleetCpuMs, delivered, cpuMicrosPerDelivered: (fleetCpuMs * 1000) / delivered, deliveredPerS: delivered / windowS },
    redis: {
      cpuMs: redisCpuMs,
      cpuPercent: redisCpuMs / 10 / windowS,
      cpuMicrosPerDelivered: redisMicrosPerMsg,
      outBytesPerDelivered: (after.redisOutBytes - before.redisOutBytes) / delivered,
      saturationRate: 1e6 / redisMicrosPerMsg,
      commands: commandStatsDelta(before.commands, after.commands).filter((c) => !["info", "pubsub", "flushall"].includes(c.command)),
    },
    latencyMs: {
      deliveryP50: percentile(deliveries, 50),
      deliveryP99: percentile(deliveries, 99),
      deliveryMax: percentile(deliveries, 100),
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
    },
    generators: { cpuMs: generatorCpuMs, skipped: sum(windows.map((w) => w.skipped)) },
    machine: {
      busyPercent: (100 * machineBusy) / machineTotal,
      ourPercent: (100 * ourMs) / (windowS * 1000 * cores),
    },
    loss: {
      sent: since("sent"),
      ackedOk,
      ackFailed: since("ackFailed"),
      ackErrors: Object.fromEntries(Object.entries(ackErrors).filter(([, n]) => n > 0)),
      delivered: deliveredTotal,
      lost: Math.max(0, ackedOk - (deliveredTotal - duplicates)),
      duplicates,
    },
  };
}

// --- setup -------------------------------------------------------------------------------------

async function chooseAuthEmulator(): Promise<string> {
  const given = process.env.FIREBASE_AUTH_EMULATOR_HOST;
  if (given) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost):\d+$/.test(given)) throw new Error(`FIREBASE_AUTH_EMULATOR_HOST=${given}: the scale run stays on loopback`);
    log(`using the Auth emulator at ${given} (FIREBASE_AUTH_EMULATOR_HOST)`);
    return given;
  }
  log("starting the Auth emulator");
  const auth = await AuthEmulator.start(process.env.GCLOUD_PROJECT || "demo-talowa-scale");
  stoppers.push(() => auth.stop());
  return auth.host;
}

/**
 * Real accounts through the emulator's REST API (as a client SDK would), 50 calls at a time: signUp, then,
 * a second later, signInWithPassword for the token the clients use. With the emulator firebase-admin always
 * checks revocation, and a token from the signUp call itself can carry an auth_time a second before the
 * account's validSince (seen: 1 in 400 refused as TOKEN_REVOKED).
 */
async function createUsers(authHost: string, count: number): Promise<Array<{ uid: string; token: string }>> {
  const run = Date.now().toString(36);
  const emailOf = (i: number) => `scale-${run}-${i}@talowa.test`;
  const password = "scale-password";
  const call = async (method: string, i: number) => {
    const res = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=any`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: emailOf(i), password, returnSecureToken: true }),
    });
    const body = (await res.json()) as { idToken?: string; localId?: string; error?: unknown };
    if (!body.idToken || !body.localId) throw new Error(`${method} failed: ${JSON.stringify(body.error)}`);
    return { uid: body.localId, token: body.idToken };
  };
  const inBatches = async (method: string) => {
    const out: Array<{ uid: string; token: string }> = [];
    for (let start = 0; start < count; start += 50) {
      out.push(...(await Promise.all(Array.from({ length: Math.min(50, count - start) }, (_, k) => call(method, start + k)))));
    }
    return out;
  };
  await inBatches("signUp");
  await sleep(1_100);
  return inBatches("signInWithPassword");
}

/** The project an emulator token was issued for (its `aud`): the gateways must accept exactly that one. */
function audienceOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { aud?: string };
  if (!payload.aud) throw new Error("the emulator token has no aud");
  return payload.aud;
}

async function machineInfo(redis: Redis): Promise<MachineInfo> {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: parseRedisInfo(await redis.info("server")).get("redis_version") ?? "unknown",
    os: `${osType()} ${release()}`,
    loadAverage: loadavg(),
  };
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

// --- plumbing ----------------------------------------------------------------------------------

function own(p: OwnedProcess): OwnedProcess {
  owned.add(p);
  return p;
}

async function stopOwned(p: OwnedProcess, graceMs: number): Promise<void> {
  await p.stop(graceMs);
  owned.delete(p);
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...owned].map((p) => p.stop(3_000).catch(() => undefined)));
    for (const stop of stoppers) await stop().catch(() => undefined);
  })();
  return cleaning;
}

function validateSettings(): void {
  if (settings.instances.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) throw new Error("--instances: whole numbers from 1 to 8");
  if (settings.adapters.some((a) => a !== "sharded" && a !== "classic")) throw new Error("--adapter: sharded, classic or both");
  if (settings.users < 2 || settings.users > 5_000) throw new Error("--users: 2 to 5000 (a process holds at most 20,000 open files)");
  if (settings.rate > 20_000 || settings.perInstanceRate * Math.max(...settings.instances) > 20_000) throw new Error("rates above 20,000 msg/s are not for a shared machine");
  if (settings.warmS + settings.measureS > 30) throw new Error("--warm + --measure: at most 30 s per point");
  const fleets = plannedFleets();
  const points = fleets.reduce((n, f) => n + f.rates.length, 0);
  // About 10 s per fleet go to starting gateways, connecting clients and first messages, 1 s per point to the drain; 60 s to setup.
  if (fleets.length * 10 + points * (settings.warmS + settings.measureS + 1) > HARD_DEADLINE_MS / 1000 - 60) {
    throw new Error(`${points} points of ${settings.warmS}+${settings.measureS} s on ${fleets.length} fleets do not fit the ${HARD_DEADLINE_MS / 1000} s bound`);
  }
}

/** Per N and adapter: the fixed total rate, then the fixed per-instance rate when that differs. */
function plannedFleets(): Array<{ adapter: AdapterName; instances: number; rates: number[] }> {
  // Adapters alternate at each N, so the two are measured minutes apart at most (the machine's load drifts).
  return settings.instances.flatMap((instances) =>
    settings.adapters.map((adapter) => {
      const perInstance = settings.perInstanceRate * instances;
      return { adapter, instances, rates: perInstance > 0 && perInstance !== settings.rate ? [settings.rate, perInstance] : [settings.rate] };
    }),
  );
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${value}"`);
  return n;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Logs each phase with the seconds it took. */
function phases(label: string): (what: string) => void {
  let last = Date.now();
  log(`${label}: starting`);
  return (what) => {
    const now = Date.now();
    log(`${label}: ${what} (${((now - last) / 1000).toFixed(1)} s)`);
    last = now;
  };
}

const log = (line: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

const deadline = setTimeout(() => {
  log(`still running after ${HARD_DEADLINE_MS / 1000} s: stopping`);
  void cleanup().then(() => process.exit(1));
}, HARD_DEADLINE_MS);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping what this run started`);
    void cleanup().then(() => process.exit(130));
  });
}

main().then(
  async () => {
    clearTimeout(deadline);
    await cleanup();
    process.exit(0);
  },
  async (error) => {
    clearTimeout(deadline);
    process.stderr.write(`scale run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    await cleanup();
    process.exit(1);
  },
);

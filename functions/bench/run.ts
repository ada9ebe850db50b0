/**
 * `npm run bench`: the benchmark harness (issue 6). In one bounded run, on loopback only, it measures
 * (a) the gateway with real Auth-emulator tokens and the in-memory message store, (b) the gateway with
 * the Firestore emulator store (and Redis when redis-server is installed), (c) a bare Socket.IO relay,
 * each in its own process, driven by the same load generator workers (separate processes), and writes
 * bench/results/latest.json and latest.md. A benchmark, never a test: it does not fail on slow numbers.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem, platform } from "node:os";
import { join } from "node:path";
import { AuthEmulator } from "../tools/auth-emulator";
import { LocalRedis, redisServerInstalled } from "../tools/redis-server";
import { WorkerPool } from "./loadgen/pool";
import { buildForBench } from "./lib/build";
import { Children, functionsDir, NodeChild } from "./lib/children";
import { summarizeProfile } from "./lib/cpu-profile";
import { heapGrowthPerSocket } from "./lib/heap-diff";
import { GcTrace } from "./lib/gc-trace";
import { Histogram } from "./lib/histogram";
import { BenchUser, IpcClient, ServerMemory, ServerReady, sleep } from "./lib/ipc";
import { endOwnChildren, machineBusy, machineSample, processCpuSeconds } from "./lib/proc";
import { bareUsers, createUsers } from "./lib/users";
import { buildTable, toMarkdown, updateReadme, writeResults } from "./report";
import { BenchSettings, parseSettings, TargetName } from "./settings";
import type { BenchReport, LoadResult, Machine, TargetResult } from "./types";

const PROJECT_ID = "demo-talowa-bench";
const RELAY_TOKEN = "bench-fixed-token";
const resultsDir = join(functionsDir, "bench", "results");
const profilesDir = join(resultsDir, "profiles");
const SERVER_FLAGS = ["--expose-gc", "--trace-gc"];
/** What a Firestore-target reset keeps: the directory the gateway has cached (see freshStore). */
const DIRECTORY = ["conversations", "users"];

const log = (line: string) => process.stdout.write(`[bench ${elapsed().toFixed(0).padStart(3)}s] ${line}\n`);
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;

interface Env {
  settings: BenchSettings;
  children: Children;
  pool: WorkerPool;
  authHost?: string;
  authPid?: number;
  firestoreHost?: string;
  firestorePid?: number;
  /** The bench's own Firestore emulator process (absent with an external emulator): it can be reset. */
  firestoreIpc?: IpcClient;
  redisUrl?: string;
  users: BenchUser[];
  deadline: number;
}

interface Server {
  child: NodeChild<ServerReady>;
  ipc: IpcClient;
  url: string;
  gc: GcTrace;
}

const labels: Record<TargetName, (redis: boolean) => string> = {
  bare: () => "bare relay",
  "gateway-memory": () => "gateway (memory store)",
  "gateway-firestore": (redis) => (redis ? "gateway (Firestore emulator + Redis)" : "gateway (Firestore emulator)"),
};

async function startServer(env: Env, target: TargetName): Promise<Server> {
  const gc = new GcTrace();
  const onLine = (line: string) => void gc.line(line);
  const base = { execArgv: SERVER_FLAGS, onLine, readyTimeoutMs: 60_000 };
  let child: NodeChild<ServerReady>;
  if (target === "bare") {
    child = await env.children.start<ServerReady>("bare-relay", "bench/servers/bare-relay.ts", { ...base, env: { BENCH_RELAY_TOKEN: RELAY_TOKEN } });
  } else {
    const firestore = target === "gateway-firestore";
    const config = {
      projectId: PROJECT_ID,
      messageStore: firestore ? "firestore" : "memory",
      redisUrl: firestore && env.redisUrl ? env.redisUrl : "",
      checkRevoked: env.settings.checkRevoked,
      transports: ["websocket", "polling"],
      shutdownTimeoutMs: 1_000,
    };
    child = await env.children.start<ServerReady>(target, "bench/servers/gateway-server.ts", {
      ...base,
      env: {
        BENCH_GATEWAY_CONFIG: JSON.stringify(config),
        GCLOUD_PROJECT: PROJECT_ID,
        FIREBASE_AUTH_EMULATOR_HOST: env.authHost,
        ...(env.firestoreHost ? { FIRESTORE_EMULATOR_HOST: env.firestoreHost } : {}),
      },
    });
  }
  return { child, ipc: child.ipc, url: `http://127.0.0.1:${child.ready.port}`, gc };
}

const memoryOf = (server: Server, gc = true) => server.ipc.request<ServerMemory>({ cmd: "memory", gc }, 20_000);
const cpuOf = (server: Server) => server.ipc.request<{ user: number; system: number }>({ cmd: "cpu" }, 10_000);

/**
 * Runs `body` while measuring the server's CPU (cores busy), its GC pauses under the name `phase`,
 * how busy the whole machine was, and the CPU of a helper process (the Auth emulator) if given.
 */
async function measured<T>(
  server: Server,
  phase: string,
  body: () => Promise<T>,
  helperPid?: number,
): Promise<{ value: T; serverCpu: number; serverCpuSeconds: number; machineBusy: number; helperCpu: number }> {
  const cpu0 = await cpuOf(server);
  const machine0 = machineSample();
  const helper0 = processCpuSeconds(helperPid);
  const wall0 = performance.now();
  server.gc.begin(phase);
  try {
    const value = await body();
    const cpu1 = await cpuOf(server);
    const seconds = Math.max(0.001, (performance.now() - wall0) / 1000);
    const serverCpuSeconds = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
    const helperCpu = (processCpuSeconds(helperPid) - helper0) / seconds;
    return {
      value,
      serverCpu: Math.round((serverCpuSeconds / seconds) * 100) / 100,
      serverCpuSeconds,
      machineBusy: machineBusy(machine0, machineSample()),
      helperCpu: Math.round(helperCpu * 100) / 100,
    };
  } finally {
    server.gc.end();
  }
}

/** Writes a heap snapshot of the server (after a forced GC) into the profiles folder; returns its path. */
async function heapSnapshot(server: Server, result: TargetResult, label: string): Promise<string> {
  mkdirSync(profilesDir, { recursive: true });
  const file = join(profilesDir, `${result.name}-${label}.heapsnapshot`);
  await server.ipc.request({ cmd: "heapSnapshot", file }, 300_000);
  return file;
}

async function profiled<T>(env: Env, server: Server, result: TargetResult, phase: string, body: () => Promise<T>): Promise<T> {
  if (!env.settings.profile) return body();
  mkdirSync(profilesDir, { recursive: true });
  await server.ipc.request({ cmd: "profileStart", intervalUs: 1000 }, 10_000);
  try {
    return await body();
  } finally {
    const file = join(profilesDir, `${result.name}-${phase}.cpuprofile`);
    try {
      await server.ipc.request({ cmd: "profileStop", file }, 60_000);
      result.profiles[phase] = summarizeProfile(file);
    } catch (error) {
      result.errors.push(`profile ${phase}: ${(error as Error).message}`);
    }
  }
}

/**
 * Waits (bounded) until every send has its ack and the server is nearly idle, so that one load's backlog
 * (for instance Firestore writes still queued) does not weigh on the next.
 */
async function settle(server: Server, pool: WorkerPool, maxMs = 5_000, maxAckWaitMs = 20_000): Promise<boolean> {
  const ackDeadline = performance.now() + maxAckWaitMs;
  while (performance.now() < ackDeadline && (await pool.outstanding()) > 0) await sleep(200);
  await sleep(300);
  return quietDown(server, undefined, maxMs);
}

/** Waits (bounded) until the server and, when there is one, the Firestore emulator use under 0.2 cores each. */
async function quietDown(server: Server, firestore: IpcClient | undefined, maxMs: number): Promise<boolean> {
  const busy = async (read: () => Promise<{ user: number; system: number }>) => {
    const a = await read();
    await sleep(300);
    const b = await read();
    return (b.user - a.user + b.system - a.system) / 1e6 / 0.3 >= 0.2;
  };
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const [server_, store] = await Promise.all([busy(() => cpuOf(server)), firestore ? busy(() => firestore.request<{ user: number; system: number }>({ cmd: "cpu" }, 10_000)) : false]);
    if (!server_ && !store) return true;
  }
  return false;
}

async function waitForConnections(server: Server, atMost: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await memoryOf(server, false)).connections <= atMost) return;
    await sleep(100);
  }
}

function toLoad(
  perClientRate: number,
  clients: number,
  d: Awaited<ReturnType<WorkerPool["direct"]>>,
  serverCpu: number,
  busy: number,
  storeCpu: number | undefined,
  serverCpuSeconds: number,
): LoadResult {
  return {
    cpuMsPerMessage: d.received > 0 ? Math.round(((serverCpuSeconds * 1000) / d.received) * 1000) / 1000 : undefined,
    refusedWithRetryAfter: d.refusedWithRetryAfter,
    perClientRate,
    clients,
    targetRate: d.targetRate,
    achievedRate: Math.round(d.achievedRate),
    sent: d.sent,
    acked: d.acked,
    received: d.received,
    lost: d.lost,
    ackErrors: d.ackErrors,
    maxBehindMs: Math.round(d.maxBehindMs),
    latency: d.latency.summary(),
    ackLatency: d.ackLatency.summary(),
    serverCpu,
    machineBusy: busy,
    storeCpu,
  };
}

/** A step of the ramp is sustained when p99 is under the limit, nothing was lost or refused, and the generator kept its schedule. */
function judge(step: LoadResult, settings: BenchSettings): LoadResult {
  const errors = Object.values(step.ackErrors).reduce((a, b) => a + b, 0);
  const why: string[] = [];
  if (!(step.latency.p99 < settings.p99LimitMs)) why.push(`p99 ${fmt(step.latency.p99)} ms`);
  if (step.lost > 0) why.push(`${step.lost} lost`);
  if (errors > 0) why.push(`${errors} error acks ${JSON.stringify(step.ackErrors)}`);
  if (step.achievedRate < 0.95 * step.targetRate) why.push(`generator reached ${step.achievedRate}/s`);
  return { ...step, passed: why.length === 0, why: why.join(", ") || undefined };
}

const fmt = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : String(n));

async function runTarget(env: Env, target: TargetName, index: number, targetDeadline: number): Promise<TargetResult> {
  const { settings, pool } = env;

  /** Queues `stormQueued` messages for each storm user (sent by users[0] while they are offline), then lets them all connect at once. */
  const stormPhase = async (server: Server, users: BenchUser[], addressOf: (w: number) => string[], left: () => number): Promise<NonNullable<TargetResult["storm"]>> => {
    await pool.disconnect();
    await waitForConnections(server, 0, 15_000);
    const stormUsers = users.slice(1, 1 + settings.stormUsers);
    await pool.connect(server.url, [users[0]], addressOf, { concurrency: 1, timeoutMs: 10_000, heartbeats: false, launchWindowMs: 5_000 });
    await freshStore("storm seeding", DIRECTORY);
    const seedStarted = performance.now();
    const seedBudgetMs = Math.max(5_000, (left() * 0.4) * 1000);
    const seeded = await pool.seed(0, 0, stormUsers.map((u) => u.uid), settings.stormQueued, 200, seedBudgetMs);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`  reconnect storm: queued ${seeded.acked}/${seeded.sent} messages for ${stormUsers.length} offline users in ${seedSeconds.toFixed(1)} s${Object.keys(seeded.errors).length ? ` (retried: ${JSON.stringify(seeded.errors)})` : ""}`);
    await pool.disconnect();
    await waitForConnections(server, 0, 15_000);
    await settle(server, pool, 5_000, 5_000);
    const timeoutMs = Math.max(5_000, Math.min(settings.stormTimeoutMs, (left() - 12) * 1000));
    // Who else spends the cores meanwhile: the generator (one socket.io-client per user), the Auth emulator (a lookup per admission), the Firestore emulator.
    const generator0 = await pool.cpuSeconds();
    const auth0 = processCpuSeconds(env.authPid);
    const store0 = processCpuSeconds(storePid);
    const wall0 = performance.now();
    // A user counts as done once it has what was queued for it (all of it unless the seeding ran out of time).
    const { value: st, serverCpu, serverCpuSeconds, machineBusy: busy } = await profiled(env, server, result, "storm", () =>
      measured(server, "storm", () => pool.storm(server.url, stormUsers, addressOf, (uid) => seeded.ackedBy[uid] ?? 0, timeoutMs, settings.stormAttemptTimeoutMs)),
    );
    const wall = Math.max(0.001, (performance.now() - wall0) / 1000);
    const cores = (seconds: number) => (Number.isFinite(seconds) ? Math.round((seconds / wall) * 100) / 100 : undefined);
    const generatorCpu = cores((await pool.cpuSeconds()) - generator0);
    const authEmulatorCpu = cores(processCpuSeconds(env.authPid) - auth0);
    const storeCpu = storePid ? cores(processCpuSeconds(storePid) - store0) : undefined;
    const errorCount = Object.values(st.errors).reduce((a, b) => a + b, 0);
    log(
      `  reconnect storm: ${st.admitted}/${st.users} admitted in ${st.admittedSeconds.toFixed(1)} s, ${st.complete} with their whole queue in ${st.completeSeconds.toFixed(1)} s; ` +
        `${st.attempts} attempts (${st.retries} retries): ${st.shed} refusals with retryAfterMs, ${errorCount} errors${errorCount ? ` ${JSON.stringify(st.errors)}` : ""}${st.gaveUp ? `, ${st.gaveUp} gave up at the time bound` : ""}; ` +
        `CPU cores: server ${serverCpu}, generator ${generatorCpu}, Auth emulator ${authEmulatorCpu}${storeCpu !== undefined ? `, Firestore emulator ${storeCpu}` : ""}; machine ${Math.round(busy * 100)}% busy`,
    );
    return {
      users: st.users,
      queuedPerUser: settings.stormQueued,
      seeded: { sent: seeded.sent, acked: seeded.acked, errors: seeded.errors, seconds: Math.round(seedSeconds * 10) / 10 },
      admitted: st.admitted,
      complete: st.complete,
      shed: st.shed,
      errors: st.errors,
      attempts: st.attempts,
      retries: st.retries,
      gaveUp: st.gaveUp,
      timeoutSeconds: timeoutMs / 1000,
      admittedSeconds: Math.round(st.admittedSeconds * 100) / 100,
      completeSeconds: Math.round(st.completeSeconds * 100) / 100,
      admittedAt: st.admittedAt.summary(),
      completeAt: st.completeAt.summary(),
      serverCpu,
      serverCpuMsPerAdmission: st.admitted > 0 ? Math.round((serverCpuSeconds * 1e6) / st.admitted) / 1000 : Number.NaN,
      generatorCpu,
      authEmulatorCpu,
      storeCpu,
      machineBusy: busy,
    };
  };
  const redis = target === "gateway-firestore" && !!env.redisUrl;
  const result: TargetResult = {
    name: target,
    label: labels[target](redis),
    serverSettings: {},
    serverNotes: [],
    messaging: { supported: false },
    fixed: [],
    gc: {},
    profiles: {},
    skipped: [],
    errors: [],
  };
  const left = () => (targetDeadline - performance.now()) / 1000;
  /**
   * Firestore target: the Node emulator slows down as it fills (firestore-host.ts), so a phase that needs
   * nothing stored before it starts from an emptied emulator; `keep` names top-level collections written
   * back (the conversations and users the gateway has cached, so its caches and the store agree).
   */
  async function freshStore(phase: string, keep: string[] = []): Promise<void> {
    if (target !== "gateway-firestore") return;
    const resets = (result.storeResets ??= []);
    if (!env.firestoreIpc) {
      if (!resets.length) result.serverNotes.push("the Firestore emulator is external: it was not reset between phases");
      resets.push({ phase, documentsBefore: NaN, kept: 0, keep, done: false });
      return;
    }
    const r = await env.firestoreIpc.request<{ before: { total: number; byCollection: Record<string, number> }; kept: number }>({ cmd: "reset", keep }, 60_000);
    resets.push({ phase, documentsBefore: r.before.total, byCollection: r.before.byCollection, kept: r.kept, keep, done: true });
    log(`  Firestore emulator reset before ${phase}: held ${r.before.total} documents, kept ${r.kept}${keep.length ? ` (${keep.join(", ")})` : ""}`);
  }
  // The Firestore emulator's process, to see whether the store is what limits the Firestore gateway.
  const storePid = target === "gateway-firestore" ? env.firestorePid : undefined;
  const settleHere = () => settle(server, pool, 5_000, Math.max(2_000, Math.min(20_000, (left() - 25) * 1000))).then(() => undefined);
  const users = target === "bare" ? bareUsers(RELAY_TOKEN, settings.users) : env.users;
  // Source addresses: one per worker and target, so ephemeral ports never run short nor collide with TIME_WAIT.
  const addressOf = (w: number) => [`127.0.${index + 1}.${w + 2}`];
  const connectOptions = (heartbeats: boolean, launchWindowMs: number) => ({
    concurrency: settings.connectConcurrency,
    timeoutMs: settings.connectTimeoutMs,
    heartbeats,
    launchWindowMs,
  });

  log(`${result.label}: starting the server`);
  const server = await startServer(env, target);
  result.serverSettings = server.child.ready.settings;
  result.serverNotes = server.child.ready.notes;
  for (const note of result.serverNotes) log(`  ${note}`);
  try {
    // Warm-up, not measured: the first admissions load lazily built clients (firebase-admin, Firestore gRPC).
    await pool.connect(server.url, users.slice(0, 4 * pool.size), addressOf, connectOptions(false, 20_000));
    await pool.disconnect();
    await waitForConnections(server, 0, 10_000);

    /** Connects `phaseUsers` on a quiet server: connect rate, CPU per admission, memory per socket (after a forced GC). */
    const connectPhase = async (phaseUsers: BenchUser[], windowMs: number) => {
      const base = await memoryOf(server);
      const snapshots = env.settings.heapSnapshots ? await heapSnapshot(server, result, "before") : undefined;
      const { value: c, serverCpu, serverCpuSeconds, machineBusy: busy, helperCpu } = await profiled(env, server, result, "connect", () =>
        measured(server, "connect", () => pool.connect(server.url, phaseUsers, addressOf, connectOptions(true, windowMs)), target === "bare" ? undefined : env.authPid),
      );
      await sleep(2_000);
      const loaded = await memoryOf(server);
      if (snapshots) {
        const after = await heapSnapshot(server, result, "after");
        result.heapGrowth = { sockets: loaded.connections, ...heapGrowthPerSocket(snapshots, after, Math.max(1, loaded.connections)) };
        for (const k of result.heapGrowth.kinds.slice(0, 12)) log(`    heap per socket: ${k.bytesPerSocket} B in ${k.countPerSocket} × ${k.kind}`);
      }
      result.connect = {
        connections: c.connected,
        attempted: c.attempted,
        failed: c.failed,
        errors: c.errors,
        seconds: Math.round(c.seconds * 100) / 100,
        ratePerSecond: Math.round(c.ratePerSecond),
        handshake: c.handshake.summary(),
        serverCpu,
        serverCpuMsPerConnect: Math.round((serverCpuSeconds * 1000 * 1000) / Math.max(1, c.connected)) / 1000,
        machineBusy: busy,
        authEmulatorCpu: target === "bare" ? undefined : helperCpu,
        generatorKBPerSocket: Math.round(c.generatorRssGrowthBytes / Math.max(1, c.connected) / 1024),
      };
      if (c.attempted < phaseUsers.length) result.skipped.push(`idle connections: stopped at ${c.attempted} of ${phaseUsers.length} (the phase's time share was used up)`);
      log(`  connected ${c.connected}/${phaseUsers.length} in ${c.seconds.toFixed(1)} s: ${Math.round(c.ratePerSecond)}/s, server CPU ${serverCpu} (${result.connect.serverCpuMsPerConnect} ms per admission), machine ${Math.round(busy * 100)}% busy${target === "bare" ? "" : `, Auth emulator CPU ${helperCpu}`}${c.failed ? `, failures ${JSON.stringify(c.errors)}` : ""}`);
      const n = Math.max(1, loaded.connections);
      const rss = (loaded.rss - base.rss) / n;
      const heap = (loaded.heapUsed + loaded.external - base.heapUsed - base.external) / n;
      result.memory = {
        connections: loaded.connections,
        rssPerSocketBytes: Math.round(rss),
        heapPerSocketBytes: Math.round(heap),
        // conservative: the larger of the two measures
        projectedSocketsPerGiB: Math.max(rss, heap) > 0 ? Math.round(2 ** 30 / Math.max(rss, heap)) : 0,
        base: { ...base },
        loaded: { ...loaded },
      };
      log(`  memory per idle socket at ${loaded.connections}: RSS ${(rss / 1024).toFixed(1)} KB, heap+external ${(heap / 1024).toFixed(1)} KB`);
      return c;
    };

    // 1. Idle authenticated connections on a fresh server (bounded in time): connect rate and memory per socket.
    const idle = target === "gateway-firestore" ? settings.idleConnectionsFirestore : settings.idleConnections;
    const clients = settings.messagingClients;
    const perWorker = Math.floor(clients / pool.size);
    /** One direct-message load over the messaging clients, on an emptied store (Firestore target), measured as phase `phase`. */
    const directLoad = async (phase: string, rate: number, seconds: number, drainMs: number): Promise<LoadResult> => {
      await freshStore(phase, DIRECTORY);
      const { value: d, serverCpu, serverCpuSeconds, machineBusy: busy, helperCpu } = await measured(server, phase, () =>
        pool.direct(perWorker, rate, seconds * 1000, drainMs, settings.contentBytes),
      storePid);
      return toLoad(rate / (perWorker * pool.size), perWorker * pool.size, d, serverCpu, busy, storePid ? helperCpu : undefined, serverCpuSeconds);
    };
    if (idle > 0) {
      if (left() < 30) result.skipped.push(`idle connections (${idle}): not enough time left`);
      else {
        const share = target === "gateway-firestore" ? settings.idleShareFirestore : settings.idleShare;
        const idleWindowMs = Math.round(Math.max(5, left() * share - 6) * 1000);
        await freshStore("idle connections");
        log(`  connecting ${idle} idle authenticated sockets (for at most ${Math.round(idleWindowMs / 1000)} s)`);
        await connectPhase(Array.from({ length: idle }, (_, i) => users[i % users.length]), idleWindowMs);
        await pool.disconnect();
        await waitForConnections(server, 0, 15_000);
        // The disconnects' aftermath (presence, logout entries of the activity log, user records) still
        // reaches the store: without this wait the Firestore target refused the messaging clients NOT_READY.
        await quietDown(server, env.firestoreIpc, 30_000);
      }
    }

    // 2. Messaging clients: one socket per user (they are the connect/memory measurement when idle is 0).
    await freshStore("messaging clients");
    log(`  connecting ${clients} messaging clients`);
    const mc = idle > 0
      ? await pool.connect(server.url, users.slice(0, clients), addressOf, connectOptions(true, 60_000))
      : await connectPhase(users.slice(0, clients), 60_000);
    if (mc.connected < clients) result.errors.push(`messaging clients: ${mc.connected}/${clients} connected ${JSON.stringify(mc.errors)}`);
    const [w0] = [0];
    try {
      const probe = await pool.probe(w0, 0, users[pool.size].uid, 5_000);
      const unknown = /unknown event/i.test(probe.ack.error?.message ?? "");
      result.messaging = probe.ack.ok
        ? { supported: true, probeMs: Math.round(probe.ms * 100) / 100 }
        : { supported: false, reason: unknown ? "messaging not merged (send_message is an unknown event)" : `send_message refused: ${probe.ack.error?.code} ${probe.ack.error?.message}` };
    } catch (error) {
      result.messaging = { supported: false, reason: `messaging not merged (${(error as Error).message})` };
    }
    if (!result.messaging.supported) log(`  messaging n/a: ${result.messaging.reason}`);
    else {
      // Warm-up, not measured: each pair's first message creates its direct conversation.
      const warmRate = Math.min(perWorker * pool.size, 250);
      const warm = await pool.direct(perWorker, warmRate, Math.ceil(((perWorker * pool.size) / warmRate) * 1000), 5_000, settings.contentBytes);
      log(`  warm-up: ${warm.sent} first messages (conversations created), ${warm.lost} not delivered, ack p99 ${fmt(warm.ackLatency.quantile(0.99))} ms`);
      // The warm-up's tail (deliveries, batched writes) must not run into the common load: wait longer for quiet.
      const quiet = await settle(server, pool, Math.max(5_000, Math.min(20_000, (left() - 60) * 1000)), 20_000);
      if (!quiet) log("  the server was still busy after the warm-up (the common load may carry its tail)");
      await profiled(env, server, result, "messaging", async () => {
        // The common load: one rate every target runs, low enough for the Firestore emulator to keep up, so
        // CPU per delivered message compares like with like (a target past its capacity delivers few).
        if (settings.commonRate > 0) {
          if (left() < settings.fixedSeconds + settings.drainMs / 1000 + 25) result.skipped.push(`common load ${settings.commonRate} msg/s: not enough time left`);
          else {
            const load = await directLoad("common", settings.commonRate, settings.fixedSeconds, settings.drainMs);
            result.common = judge(load, settings);
            log(`  common load ${settings.commonRate} msg/s: p50 ${fmt(load.latency.p50)} p99 ${fmt(load.latency.p99)} ms, lost ${load.lost}, server CPU ${load.serverCpu} (${load.cpuMsPerMessage ?? "n/a"} ms per delivered message)${result.common.passed ? "" : `; not sustained: ${result.common.why}`}`);
            await settleHere();
          }
        }
        let overloaded = false;
        for (const perClient of settings.fixedRates) {
          const seconds = settings.fixedSeconds;
          if (overloaded) {
            result.skipped.push(`fixed load ${perClient} msg/s per client: the target was already overloaded at a lower load`);
            continue;
          }
          if (left() < seconds + settings.drainMs / 1000 + 25) {
            result.skipped.push(`fixed load ${perClient} msg/s per client: not enough time left`);
            continue;
          }
          const rate = perClient * perWorker * pool.size;
          const load = await directLoad(`fixed-${perClient}`, rate, seconds, settings.drainMs);
          result.fixed.push(load);
          log(`  ${rate} msg/s: p50 ${fmt(load.latency.p50)} p95 ${fmt(load.latency.p95)} p99 ${fmt(load.latency.p99)} ms, lost ${load.lost}, server CPU ${load.serverCpu} (${load.cpuMsPerMessage ?? "n/a"} ms per delivered message)`);
          overloaded = load.lost > 0 || load.latency.p99 > 1_000;
          await settleHere();
        }

        // Highest sustained rate: grow by rampFactor until a step fails, then bisect.
        const steps: LoadResult[] = [];
        const start = target === "bare" ? settings.rampStartBare : target === "gateway-memory" ? settings.rampStartGatewayMemory : settings.rampStartGatewayFirestore;
        // The fixed loads already tell where the limit is not (or is): start from there.
        let lo = 0;
        let hi = Infinity;
        // A fixed load that passed is a safe lower bound; one that failed may be a passing hiccup, so the ramp finds the upper bound itself.
        for (const f of result.fixed) if (judge(f, settings).passed) lo = Math.max(lo, f.targetRate);
        let rate = hi === Infinity ? Math.max(start, Math.round((lo * settings.rampFactor) / 100) * 100) : lo >= hi ? hi : Math.round((lo + hi) / 2 / 10) * 10;
        let limitedBy: string | undefined;
        // Time kept for what follows the ramp: group, presence, and for gateways the overload and storm phases.
        const reserve =
          (settings.groupMessages * settings.groupIntervalMs) / 1000 +
          6 +
          (target === "bare" ? 0 : settings.presenceRepeats * 0.5 + 3 + settings.overloadSeconds + 8 + (settings.stormUsers > 0 ? 35 : 0));
        for (let i = 0; i < settings.rampMaxSteps && rate > 0; i++) {
          if (hi !== Infinity && hi - lo <= settings.rampResolution * hi) break;
          if (left() < settings.rampSeconds + settings.drainMs / 1000 + 4 + reserve) {
            limitedBy = "time budget";
            break;
          }
          const step = judge(await directLoad(`ramp-${rate}`, rate, settings.rampSeconds, settings.drainMs), settings);
          steps.push(step);
          log(`  ramp ${rate} msg/s: ${step.passed ? "sustained" : `not sustained (${step.why})`}; p99 ${fmt(step.latency.p99)} ms, server CPU ${step.serverCpu}`);
          if (step.passed) lo = Math.max(lo, rate);
          else hi = Math.min(hi, rate);
          const grain = hi < 1_000 ? 10 : 50;
          rate = hi === Infinity ? Math.round((rate * settings.rampFactor) / 100) * 100 : Math.round((lo + hi) / 2 / grain) * grain;
          // As fine as it gets; below 50 msg/s a 3-second step holds too few messages for a p99.
          if (rate === lo || rate === hi || rate < 50) break;
          await settleHere(); // let a failed step's backlog clear before the next
        }
        result.maxRate = { sustained: lo, lowestFailed: hi === Infinity ? null : hi, steps, limitedBy };
        log(`  highest sustained rate: ${lo} msg/s`);

        // Overload (gateways): twice the sustained rate. Acked messages should stay fast and the excess be
        // refused at once (UNAVAILABLE + retryAfterMs); nothing acked may be lost.
        if (target !== "bare" && lo > 0) {
          if (left() < settings.overloadSeconds + (2 * settings.drainMs) / 1000 + 8) result.skipped.push("overload: not enough time left");
          else {
            await settleHere();
            const rate = Math.round(lo * settings.overloadFactor);
            const o = await directLoad("overload", rate, settings.overloadSeconds, 2 * settings.drainMs);
            result.overload = { ...o, sustainedRate: lo };
            const errors = Object.values(o.ackErrors).reduce((a, b) => a + b, 0);
            log(`  overload ${rate} msg/s (${settings.overloadFactor}× sustained): acked ${o.acked}, ack p99 ${fmt(o.ackLatency.p99)} ms, delivery p99 ${fmt(o.latency.p99)} ms, refused ${errors} (${o.refusedWithRetryAfter} UNAVAILABLE with retryAfterMs), lost ${o.lost}`);
            await settleHere();
          }
        }
      });

      // Group fan-out: one sender, a group of groupMembers (the first clients), time to the last member.
      if (left() < (settings.groupMessages * settings.groupIntervalMs) / 1000 + 6) result.skipped.push("group fan-out: not enough time left");
      else {
        try {
          const members = users.slice(0, settings.groupMembers);
          await freshStore("group fan-out", DIRECTORY);
          const created = await pool.groupCreate(w0, 0, "bench group", members.slice(1).map((u) => u.uid), 15_000);
          await sleep(500);
          const { value: g } = await measured(server, "group", () =>
            pool.groupFanOut(w0, 0, created.conversationId, settings.groupMessages, settings.groupIntervalMs, settings.contentBytes, settings.groupMembers - 1),
          );
          result.group = {
            members: settings.groupMembers,
            messages: settings.groupMessages,
            lastMember: g.lastMember.summary(),
            minDeliveries: Math.min(...g.deliveries),
            expectedDeliveries: settings.groupMembers - 1,
            ackErrors: g.ackErrors,
            ackLatency: g.ackLatency.summary(),
          };
          log(`  group of ${settings.groupMembers}: last member p50 ${fmt(result.group.lastMember.p50)} p99 ${fmt(result.group.lastMember.p99)} ms; fewest members reached ${result.group.minDeliveries}/${settings.groupMembers - 1}`);
        } catch (error) {
          result.errors.push(`group fan-out: ${(error as Error).message}`);
          log(`  group fan-out failed: ${(error as Error).message}`);
        }
      }
    }

    // Presence: clean disconnect -> offline update at a subscriber (gateway only).
    if (target !== "bare") {
      if (left() < 12) result.skipped.push("presence: not enough time left");
      else {
        try {
          const p = await pool.presence(0, {
            subject: users[clients],
            subscriber: 1,
            url: server.url,
            localAddress: addressOf(0)[0],
            repeats: settings.presenceRepeats,
            timeoutMs: settings.presenceTimeoutMs,
          });
          const h = new Histogram();
          p.samples.forEach((s) => h.record(s));
          result.presence = { supported: p.supported, reason: p.reason, samples: p.samples.length, timeouts: p.timeouts, latency: p.samples.length ? h.summary() : undefined };
          log(`  presence: ${p.supported ? `offline seen p50 ${fmt(h.quantile(0.5))} p99 ${fmt(h.quantile(0.99))} ms (${p.timeouts} timeouts)` : `n/a (${p.reason})`}`);
        } catch (error) {
          result.errors.push(`presence: ${(error as Error).message}`);
        }
      }
    }
    // Reconnect storm (gateways): users with queued messages all connect at once, as after a restart.
    if (target !== "bare" && settings.stormUsers > 0 && result.messaging.supported) {
      if (left() < 25) result.skipped.push("reconnect storm: not enough time left");
      else {
        try {
          result.storm = await stormPhase(server, users, addressOf, left);
        } catch (error) {
          result.errors.push(`reconnect storm: ${(error as Error).message}`);
          log(`  reconnect storm failed: ${(error as Error).message}`);
        }
      }
    }
    await pool.disconnect();
  } catch (error) {
    result.errors.push((error as Error).stack ?? String(error));
    log(`  ${result.label} failed: ${(error as Error).message}`);
    await pool.disconnect().catch(() => undefined);
  } finally {
    server.gc.end();
    result.gc = server.gc.phases;
    await server.ipc.request({ cmd: "stop" }, 5_000).catch(() => undefined);
    await server.child.proc.stop(12_000);
  }
  return result;
}

function machineInfo(): Machine {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      return "?";
    }
  };
  const limits = read("/proc/self/limits").split("\n").find((l) => l.startsWith("Max open files"));
  let socketIo = "?";
  try {
    socketIo = (JSON.parse(readFileSync(join(functionsDir, "node_modules", "socket.io", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    /* unknown */
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    kernel: release(),
    socketIo,
    openFilesLimit: limits ? limits.replace("Max open files", "").trim().split(/\s+/).slice(0, 2).join(" soft / ") + " hard" : "?",
    ephemeralPorts: read("/proc/sys/net/ipv4/ip_local_port_range").replace(/\s+/g, "-"),
    somaxconn: read("/proc/sys/net/core/somaxconn"),
    loadAverageStart: loadavg().map((l) => Math.round(l * 100) / 100),
    loadAverageEnd: [],
  };
}

function gitInfo() {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: functionsDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  return { commit: git("rev-parse", "--short", "HEAD") || "?", branch: git("rev-parse", "--abbrev-ref", "HEAD") || "?", dirty: git("status", "--porcelain", "--", "src", "bench").length > 0 };
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2), process.env);
  const deadline = performance.now() + settings.budgetSeconds * 1000;
  const children = new Children();
  let auth: AuthEmulator | undefined;
  let redis: LocalRedis | undefined;
  let firestoreChild: NodeChild<{ port: number }> | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= Promise.all([children.stopAll(), auth?.stop(), redis?.stop(), firestoreChild?.proc.stop(3_000)]).then(() => undefined));

  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stdout.write(`\n[bench] ${signal}: stopping every process it started\n`);
    // Stop what we hold, then any child still starting (not yet handed to us), each by its PID.
    void Promise.race([cleanup(), sleep(15_000)])
      .then(() => endOwnChildren())
      .finally(() => process.exit(130));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  // Hard stop: whatever happens, the run ends.
  const watchdog = setTimeout(() => {
    process.stdout.write(`[bench] over ${settings.budgetSeconds + 60} s: stopping\n`);
    void Promise.race([cleanup(), sleep(15_000)])
      .then(() => endOwnChildren())
      .finally(() => process.exit(1));
  }, (settings.budgetSeconds + 60) * 1000);
  watchdog.unref();

  const machine = machineInfo();
  const gateways = settings.targets.filter((t) => t !== "bare");
  const wantsRedis = settings.targets.includes("gateway-firestore") && (settings.redis === "on" || (settings.redis === "auto" && redisServerInstalled()));
  const notes: string[] = [];
  const report: BenchReport = {
    date: new Date().toISOString(),
    durationSeconds: 0,
    complete: false,
    git: gitInfo(),
    machine,
    settings: { ...settings, serverNodeFlags: SERVER_FLAGS, redisUsed: false, authEmulator: gateways.length > 0, firestore: "none" },
    targets: {},
    table: [],
    notes,
  };
  log(`machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverageStart.join(" ")}; free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB`);
  if (machine.loadAverageStart[0] > machine.cores) notes.push(`the machine was busy at the start (load average ${machine.loadAverageStart[0]} on ${machine.cores} cores): figures are noisy`);

  try {
    // Each helper is remembered the moment it is up, so an interruption during start-up stops it too.
    const authStarting = gateways.length ? AuthEmulator.start(PROJECT_ID).then((a) => (auth = a)) : undefined;
    const redisStarting = wantsRedis ? LocalRedis.start().then((r) => (redis = r)) : undefined;
    // While the Auth emulator boots in its own process: transpile what the children run.
    const build = buildForBench(functionsDir);
    children.useBuild(build.outDir);
    log(`transpiled ${build.files} files for the child processes in ${build.ms} ms (they run plain JavaScript)`);
    const started = [
      authStarting,
      redisStarting,
      settings.targets.includes("gateway-firestore") && !process.env.FIRESTORE_EMULATOR_HOST
        ? children.start<{ port: number }>("firestore-emulator", "bench/servers/firestore-host.ts").then((f) => (firestoreChild = f))
        : undefined,
      WorkerPool.start(children, settings.workers),
    ] as const;
    const [authStarted, , fsStarted, pool] = await Promise.all(started);
    if (interrupted) return;
    const authPid = (authStarted as unknown as { process?: { pid?: number } } | undefined)?.process?.pid;
    const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST || (fsStarted ? `127.0.0.1:${fsStarted.ready.port}` : undefined);
    report.settings.redisUsed = !!redis;
    report.settings.firestore = process.env.FIRESTORE_EMULATOR_HOST ? `official emulator at ${firestoreHost}` : fsStarted ? "@firestore-emulator/server (own process)" : "none";
    if (settings.targets.includes("gateway-firestore") && !redis) notes.push("redis-server not available: the Firestore-backed gateway ran without Redis");
    log(`started: ${settings.workers} load generator workers${auth ? `, Auth emulator ${auth.host}` : ""}${redis ? `, ${redis.url}` : ""}${firestoreHost ? `, Firestore ${firestoreHost}` : ""}`);

    let users: BenchUser[] = [];
    if (auth) {
      const started = performance.now();
      users = await createUsers(auth.host, settings.users);
      log(`created ${users.length} Auth-emulator users with ID tokens in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const env: Env = { settings, children, pool, authHost: auth?.host, authPid, firestoreHost, firestorePid: fsStarted?.proc.pid, firestoreIpc: fsStarted?.ipc, redisUrl: redis?.url, users, deadline };

    // Shares of the time left when a target starts; the Firestore target's 15,000 idle sockets take about 3 minutes on 2 cores.
    const firestoreIdle = settings.idleConnectionsFirestore > 0;
    const weight: Record<TargetName, number> = { bare: firestoreIdle ? 0.8 : 1, "gateway-memory": 1.2, "gateway-firestore": firestoreIdle ? 1.4 : 0.65 };
    for (let i = 0; i < settings.targets.length; i++) {
      const target = settings.targets[i];
      const remaining = settings.targets.slice(i);
      const share = weight[target] / remaining.reduce((s, t) => s + weight[t], 0);
      const targetDeadline = performance.now() + (deadline - performance.now()) * share;
      try {
        report.targets[target] = await runTarget(env, target, i, targetDeadline);
      } catch (error) {
        log(`${target}: ${(error as Error).message}`);
        report.targets[target] = {
          name: target, label: labels[target](!!redis), serverSettings: {}, serverNotes: [], messaging: { supported: false, reason: "server failed" },
          fixed: [], gc: {}, profiles: {}, skipped: [], errors: [(error as Error).message],
        };
      }
    }
    report.complete = settings.targets.every((t) => (report.targets[t]?.errors.length ?? 1) === 0);
  } finally {
    await cleanup();
  }

  report.machine.loadAverageEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  report.durationSeconds = Math.round(elapsed());
  report.table = buildTable(report);
  const markdown = toMarkdown(report);
  const files = writeResults(resultsDir, report, markdown);
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${files.join(", ")}`);
  if (settings.readme) {
    const readme = join(functionsDir, "..", "README.md");
    if (existsSync(readme) && updateReadme(readme, report)) log(`updated the Benchmark section of ${readme}`);
  }
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

/**
 * Every knob of the benchmark, with its default. Override any of them on the command line
 * (`npm run bench -- --idleConnections=5000 --targets=bare,gateway-memory`) or with BENCH_<NAME>
 * environment variables (BENCH_IDLE_CONNECTIONS=5000). `--quick` shrinks everything for a smoke run.
 */
export const TARGETS = ["bare", "gateway-memory", "gateway-firestore"] as const;
export type TargetName = (typeof TARGETS)[number];

export const defaultSettings = {
  /** Which servers to measure, in this order. */
  targets: [...TARGETS] as TargetName[],
  /** Load generator processes (each a socket.io-client process; 15,000 sockets need several: 20,000 open files each at most). */
  workers: 4,
  /** Clients connected during the messaging scenarios (one per user). */
  messagingClients: 1000,
  /** Idle authenticated connections for the memory figure (and the connect-rate figure). */
  idleConnections: 15000,
  /** The same for the Firestore-backed gateway; 0 = measure connect and memory on the messaging clients' connect. */
  idleConnectionsFirestore: 15000,
  /** Longest share of a target's time the idle-connection phase may take; past it no new socket starts and memory is read at the count reached. */
  idleShare: 0.3,
  /** The same for the Firestore-backed gateway, whose admissions are slower: 15,000 sockets need most of its time (issue 13). */
  idleShareFirestore: 0.6,
  /** Handshakes in flight per worker while connecting. */
  connectConcurrency: 100,
  connectTimeoutMs: 30000,
  /** Fixed loads: messages per second per client, over `messagingClients` clients. */
  fixedRates: [1, 5] as number[],
  /**
   * The common load (msg/s in all, over the messaging clients) every target runs first, on an emptied Firestore
   * emulator: a rate the Node emulator sustains on a 2-core machine, so "CPU per delivered message" compares
   * the gateways at the same work (0: none).
   */
  commonRate: 300,
  fixedSeconds: 5,
  /** Ramp for the highest sustained rate: first step (msg/s) per target, growth factor, step length. */
  rampStartBare: 5000,
  rampStartGatewayMemory: 3000,
  rampStartGatewayFirestore: 500,
  rampFactor: 1.5,
  rampSeconds: 3,
  rampMaxSteps: 9,
  /** Stop refining once the highest pass and lowest fail are this close (fraction). */
  rampResolution: 0.1,
  /** A step passes with p99 below this, nothing lost, no error acks, and the generator on schedule. */
  p99LimitMs: 50,
  drainMs: 2000,
  contentBytes: 64,
  groupMembers: 500,
  groupMessages: 40,
  groupIntervalMs: 75,
  presenceRepeats: 10,
  /** Overload phase (gateways): twice the highest sustained rate, for this long. */
  overloadFactor: 2,
  overloadSeconds: 5,
  /** Reconnect storm (gateways): this many users with `stormQueued` messages queued each connect at once. */
  stormUsers: 10000,
  stormQueued: 2,
  /** Longest wait for the storm to be admitted and have its queues (past it, what was reached is reported). */
  stormTimeoutMs: 60000,
  /**
   * Each storm user reconnects as the app does (client library backoff: 250 ms doubling to 15 s, jittered, never
   * before retryAfterMs); one attempt's connect timeout is socket.io-client's default.
   */
  stormAttemptTimeoutMs: 20000,
  presenceTimeoutMs: 3000,
  /** Redis for the Firestore-backed gateway (the production shape): auto = when redis-server is installed. */
  redis: "auto" as "auto" | "on" | "off",
  /**
   * The gateway's token revocation check at admission (its default: on). Note: against the Auth emulator,
   * firebase-admin looks the user up on every verifyIdToken whatever this says, so each admission here
   * costs one Auth-emulator request (firebase-tools, on the same cores).
   */
  checkRevoked: true,
  /** Users created in the Auth emulator; idle connections reuse them as extra devices. */
  users: 1000,
  /** CPU-profile each gateway phase (inspector sampler) and summarise where the time goes. */
  profile: false,
  /** Heap snapshots before and after the idle-connection phase: what each socket's memory is made of (slow; for attribution runs). */
  heapSnapshots: false,
  /** Whole-run bound: phases that would not fit are skipped and reported as such (the hard stop is 60 s later: 10 minutes in all). */
  budgetSeconds: 540,
  /** Rewrite the README's Benchmark section with this run's table. */
  readme: true,
};

export type BenchSettings = typeof defaultSettings;

const QUICK: Partial<BenchSettings> = {
  messagingClients: 200,
  idleConnections: 1000,
  idleConnectionsFirestore: 0,
  fixedSeconds: 2,
  rampSeconds: 2,
  rampMaxSteps: 3,
  groupMembers: 100,
  groupMessages: 10,
  presenceRepeats: 3,
  overloadSeconds: 2,
  stormUsers: 300,
  stormTimeoutMs: 20000,
  budgetSeconds: 200,
  users: 210,
  readme: false,
  workers: 2,
};

export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): BenchSettings {
  const settings: Record<string, unknown> = { ...defaultSettings };
  const apply = (key: string, raw: string, source: string) => {
    if (!(key in defaultSettings)) throw new Error(`unknown bench setting ${source}`);
    const example = (defaultSettings as Record<string, unknown>)[key];
    let value: unknown;
    if (typeof example === "number") value = Number(raw);
    else if (typeof example === "boolean") value = /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : undefined;
    else if (Array.isArray(example)) value = raw.split(",").map((s) => s.trim()).filter(Boolean).map((s) => (typeof example[0] === "number" ? Number(s) : s));
    else value = raw;
    if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) throw new Error(`bad value for ${source}: ${raw}`);
    settings[key] = value;
  };
  for (const key of Object.keys(defaultSettings)) {
    const name = `BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    if (env[name] !== undefined && env[name] !== "") apply(key, env[name]!, name);
  }
  if (argv.includes("--quick")) Object.assign(settings, QUICK);
  for (const arg of argv) {
    if (arg === "--quick") continue;
    const m = /^--(no-)?([A-Za-z]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    if (m[1]) apply(m[2], "false", arg);
    else apply(m[2], m[3] ?? "true", arg);
  }
  const s = settings as BenchSettings;
  for (const t of s.targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (known: ${TARGETS.join(", ")})`);
  if (s.users < s.messagingClients + 2) s.users = s.messagingClients + 2;
  if (s.users < s.stormUsers + 1) s.users = s.stormUsers + 1;
  if (s.groupMembers > s.messagingClients) s.groupMembers = s.messagingClients;
  return s;
}

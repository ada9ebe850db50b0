import type { GcSummary } from "./lib/gc-trace";
import type { LatencySummary } from "./lib/histogram";
import type { ProfileSummary } from "./lib/cpu-profile";
import type { HeapKind } from "./lib/heap-diff";
import type { BenchSettings, TargetName } from "./settings";

export interface LoadResult {
  perClientRate: number;
  clients: number;
  targetRate: number;
  achievedRate: number;
  sent: number;
  acked: number;
  received: number;
  lost: number;
  ackErrors: Record<string, number>;
  maxBehindMs: number;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /** Server CPU time over wall time during the load (1.0 = one core busy). */
  serverCpu: number;
  /** Share of all the machine's cores busy (every process, ours and others'). */
  machineBusy: number;
  /** Cores the Firestore emulator used meanwhile (Firestore gateway only). */
  storeCpu?: number;
  /** Server CPU time per delivered message (ms): the gateway's own cost of a message, whatever the rate. */
  cpuMsPerMessage?: number;
  /** Error acks that were UNAVAILABLE with retryAfterMs (load shedding). */
  refusedWithRetryAfter?: number;
  passed?: boolean;
  why?: string;
}

export interface TargetResult {
  name: TargetName;
  label: string;
  serverSettings: Record<string, unknown>;
  serverNotes: string[];
  connect?: {
    connections: number;
    attempted: number;
    failed: number;
    errors: Record<string, number>;
    seconds: number;
    ratePerSecond: number;
    handshake: LatencySummary;
    serverCpu: number;
    /** Server CPU time per admitted socket: the gateway's own cost of a connection, whatever else is slow. */
    serverCpuMsPerConnect: number;
    machineBusy: number;
    /** Cores the Auth emulator used meanwhile (firebase-admin looks every user up in it). */
    authEmulatorCpu?: number;
    generatorKBPerSocket: number;
  };
  memory?: {
    connections: number;
    rssPerSocketBytes: number;
    heapPerSocketBytes: number;
    projectedSocketsPerGiB: number;
    base: Record<string, number>;
    loaded: Record<string, number>;
  };
  messaging: { supported: boolean; reason?: string; probeMs?: number };
  /** The common load (`commonRate` msg/s), run by every target: CPU per delivered message at the same rate. */
  common?: LoadResult;
  fixed: LoadResult[];
  /** Highest rate that passed and lowest that failed (fixed loads included); no failure: the true limit is higher. */
  maxRate?: { sustained: number; lowestFailed: number | null; steps: LoadResult[]; limitedBy?: string };
  group?: {
    members: number;
    messages: number;
    lastMember: LatencySummary;
    /** How many members each message reached (expected members - 1: not the sender). */
    minDeliveries: number;
    expectedDeliveries: number;
    ackErrors: Record<string, number>;
    ackLatency: LatencySummary;
  };
  presence?: { supported: boolean; reason?: string; samples: number; timeouts: number; latency?: LatencySummary };
  /** Twice the sustained rate: what is acked stays fast, the excess is refused at once. */
  overload?: LoadResult & { sustainedRate: number };
  /** N users with queued messages reconnect at once to this one instance. */
  storm?: {
    users: number;
    queuedPerUser: number;
    seeded: { sent: number; acked: number; errors: Record<string, number>; seconds: number };
    admitted: number;
    complete: number;
    /** Refusals UNAVAILABLE with retryAfterMs (load shedding). */
    shed: number;
    /** Other failed attempts by reason (connect timeouts, transport errors). */
    errors: Record<string, number>;
    /** Connection attempts (each a new socket), retries among them, and users still not admitted at the bound. */
    attempts: number;
    retries: number;
    gaveUp: number;
    timeoutSeconds: number;
    admittedSeconds: number;
    completeSeconds: number;
    admittedAt: LatencySummary;
    completeAt: LatencySummary;
    serverCpu: number;
    serverCpuMsPerAdmission: number;
    /** Cores the generator, the Auth emulator and (Firestore target) the Firestore emulator used meanwhile. */
    generatorCpu?: number;
    authEmulatorCpu?: number;
    storeCpu?: number;
    machineBusy: number;
  };
  gc: Record<string, GcSummary>;
  profiles: Record<string, ProfileSummary>;
  /** With `heapSnapshots`: the heap kinds that grew most per idle socket. */
  heapGrowth?: { sockets: number; totalBytesPerSocket: number; kinds: HeapKind[] };
  skipped: string[];
  errors: string[];
  /** Firestore target: the emulator was emptied before these phases (keeping `keep`); documents it held then. */
  storeResets?: StoreReset[];
}

export interface StoreReset {
  phase: string;
  documentsBefore: number;
  byCollection?: Record<string, number>;
  kept: number;
  keep: string[];
  /** false: an external emulator, not reset. */
  done: boolean;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  kernel: string;
  socketIo: string;
  openFilesLimit: string;
  ephemeralPorts: string;
  somaxconn: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

export interface BenchReport {
  date: string;
  durationSeconds: number;
  complete: boolean;
  git: { commit: string; branch: string; dirty: boolean };
  machine: Machine;
  settings: BenchSettings & { serverNodeFlags: string[]; redisUsed: boolean; authEmulator: boolean; firestore: string };
  targets: Partial<Record<TargetName, TargetResult>>;
  table: TableRow[];
  notes: string[];
}

export type Verdict = "met" | "missed" | "n/a";

export interface TableRow {
  figure: string;
  /** The load the figure was measured at. */
  load?: string;
  values: Partial<Record<TargetName, string>>;
  ratios: Partial<Record<TargetName, string>>;
  target: string;
  verdicts: Partial<Record<TargetName, Verdict>>;
}

/**
 * Messages between the bench runner and its child processes (load generator workers and servers
 * under test), over the Node IPC channel of `fork`/`spawn(..., stdio: [..., "ipc"])`.
 */
import type { ChildProcess } from "node:child_process";
import type { HistogramData } from "./histogram";

export interface BenchUser {
  uid: string;
  token: string;
}

export type WorkerRequest =
  | {
      cmd: "connect";
      url: string;
      users: BenchUser[];
      /** Source addresses (127.x.y.z) the sockets bind to, round robin, so ephemeral ports never run short. */
      localAddresses: string[];
      concurrency: number;
      timeoutMs: number;
      /** No new connection is started after this long (the run stays bounded on a slow machine). */
      launchWindowMs: number;
      heartbeats: boolean;
    }
  | { cmd: "disconnect" }
  | { cmd: "probe"; sender: number; recipientUid: string; timeoutMs: number }
  | { cmd: "direct"; activeClients: number; rate: number; durationMs: number; drainMs: number; contentBytes: number }
  | { cmd: "groupCreate"; sender: number; name: string; memberIds: string[]; timeoutMs: number }
  | { cmd: "groupTrack"; conversationId: string }
  | { cmd: "groupSend"; sender: number; conversationId: string; count: number; intervalMs: number; contentBytes: number }
  | { cmd: "groupReport"; final: boolean }
  | { cmd: "presence"; subject: BenchUser; subscriber: number; url: string; localAddress: string; repeats: number; timeoutMs: number }
  | { cmd: "memory" }
  | { cmd: "cpu" }
  | { cmd: "outstanding" }
  | { cmd: "seed"; sender: number; recipients: string[]; perUser: number; concurrency: number; timeoutMs: number }
  | {
      cmd: "storm";
      url: string;
      users: BenchUser[];
      localAddresses: string[];
      /** Queued messages each user must receive before it counts as done (same order as `users`). */
      expected: number[];
      timeoutMs: number;
      /** socket.io-client's connect timeout of each attempt (its default, 20 s, as in the client library). */
      attemptTimeoutMs: number;
    };

export interface StormResult {
  users: number;
  admitted: number;
  complete: number;
  /** Refusals answered UNAVAILABLE with retryAfterMs (load shedding), retried after that long (or the backoff, if longer). */
  shed: number;
  /** Other connection errors, by reason (retried after the client library's backoff). */
  errors: Record<string, number>;
  /** Connection attempts in all, and those after a user's first (each a new socket). */
  attempts: number;
  retries: number;
  /** Users who ran out of time before admission (the storm's bound). */
  gaveUp: number;
  startEpochMs: number;
  lastAdmittedEpochMs: number;
  lastCompleteEpochMs: number;
  /** Per user: from the first attempt to auth_success, and to the last queued message. */
  admitted_ms: HistogramData;
  complete_ms: HistogramData;
}

export interface ConnectResult {
  attempted: number;
  connected: number;
  failed: number;
  errors: Record<string, number>;
  firstStartEpochMs: number;
  lastDoneEpochMs: number;
  handshake: HistogramData;
  rssGrowthBytes: number;
}

export interface DirectResult {
  targetRate: number;
  sent: number;
  sendSeconds: number;
  acked: number;
  ackErrors: Record<string, number>;
  received: number;
  lost: number;
  unexpected: number;
  echoes: number;
  /** Error acks that were UNAVAILABLE with a retryAfterMs (load shedding). */
  refusedWithRetryAfter: number;
  /** Largest backlog of sends the generator was behind schedule, in ms of traffic. */
  maxBehindMs: number;
  latency: HistogramData;
  ackLatency: HistogramData;
}

export interface GroupSendResult {
  sendTimes: Array<[clientId: string, epochMs: number]>;
  acked: number;
  ackErrors: Record<string, number>;
  ackLatency: HistogramData;
}

export interface GroupReport {
  receipts: Array<[clientId: string, count: number, lastEpochMs: number]>;
}

export interface PresenceResult {
  supported: boolean;
  reason?: string;
  samples: number[];
  timeouts: number;
}

export type ServerRequest =
  | { cmd: "memory"; gc: boolean }
  | { cmd: "cpu" }
  | { cmd: "profileStart"; intervalUs: number }
  | { cmd: "profileStop"; file: string }
  | { cmd: "heapSnapshot"; file: string }
  | { cmd: "stop" };

export interface ServerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  connections: number;
}

export interface ServerReady {
  type: "ready";
  port: number;
  kind: string;
  /** Settings the server runs with (for the report). */
  settings: Record<string, unknown>;
  notes: string[];
}

type Envelope = { id: number; ok: boolean; result?: unknown; error?: string };

/** Request/response over a child's IPC channel; rejects on timeout or when the child exits. */
export class IpcClient {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (raw) => {
      const msg = raw as Envelope;
      if (typeof msg?.id !== "number") return;
      const entry = this.waiting.get(msg.id);
      if (!entry) return;
      this.waiting.delete(msg.id);
      clearTimeout(entry.timer);
      if (msg.ok) entry.resolve(msg.result);
      else entry.reject(new Error(`${this.name}: ${msg.error}`));
    });
    child.once("exit", (code, signal) => {
      for (const [id, entry] of this.waiting) {
        clearTimeout(entry.timer);
        entry.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before answering`));
        this.waiting.delete(id);
      }
    });
  }

  request<T>(body: object, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${JSON.stringify(body).slice(0, 60)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.child.send({ id, ...body });
      } catch (error) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(error as Error);
      }
    });
  }
}

/** Child side: answers each request with its handler's result (or error). */
export function serveIpc(handle: (request: { id: number; cmd: string } & Record<string, unknown>) => Promise<unknown>): void {
  process.on("message", (raw) => {
    const request = raw as { id: number; cmd: string } & Record<string, unknown>;
    if (typeof request?.id !== "number") return;
    handle(request).then(
      (result) => process.send?.({ id: request.id, ok: true, result }),
      (error) => process.send?.({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The runner is gone: nothing left to serve.
  process.on("disconnect", () => process.exit(0));
}

export const epochNow = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

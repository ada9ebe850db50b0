/**
 * The runner's side of the load generator: N worker processes, each holding a share of the clients.
 * Commands go to every worker at once; results are merged here.
 */
import { Histogram } from "../lib/histogram";
import { Children, NodeChild } from "../lib/children";
import type { BenchUser, ConnectResult, DirectResult, GroupReport, GroupSendResult, PresenceResult, StormResult } from "../lib/ipc";

export interface MergedConnect {
  attempted: number;
  connected: number;
  failed: number;
  errors: Record<string, number>;
  seconds: number;
  ratePerSecond: number;
  handshake: Histogram;
  generatorRssGrowthBytes: number;
}

export interface MergedDirect {
  targetRate: number;
  achievedRate: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  received: number;
  lost: number;
  unexpected: number;
  refusedWithRetryAfter: number;
  maxBehindMs: number;
  latency: Histogram;
  ackLatency: Histogram;
}

export interface MergedStorm {
  users: number;
  admitted: number;
  complete: number;
  shed: number;
  errors: Record<string, number>;
  attempts: number;
  retries: number;
  gaveUp: number;
  /** From the first attempt to the last admission, and to the last user having its whole queue. */
  admittedSeconds: number;
  completeSeconds: number;
  admittedAt: Histogram;
  completeAt: Histogram;
}

const addCounts = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
};

export class WorkerPool {
  private constructor(private readonly workers: Array<NodeChild<unknown>>) {}

  static async start(children: Children, count: number): Promise<WorkerPool> {
    const workers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        children.start(`loadgen-${i}`, "bench/loadgen/worker.ts", { env: { BENCH_WORKER_ID: String(i) } }),
      ),
    );
    return new WorkerPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Spreads `users` over the workers (user i goes to worker i mod N); worker w binds to `addressOf(w)`. */
  async connect(
    url: string,
    users: BenchUser[],
    addressOf: (worker: number) => string[],
    options: { concurrency: number; timeoutMs: number; heartbeats: boolean; launchWindowMs: number },
  ): Promise<MergedConnect> {
    const shares = this.split(users);
    const results = await Promise.all(
      this.workers.map((w, i) =>
        w.ipc.request<ConnectResult>(
          { cmd: "connect", url, users: shares[i], localAddresses: addressOf(i), ...options },
          options.launchWindowMs + options.timeoutMs + 30_000,
        ),
      ),
    );
    const handshake = new Histogram();
    const errors: Record<string, number> = {};
    let connected = 0;
    let failed = 0;
    let attempted = 0;
    let rss = 0;
    let first = Infinity;
    let last = 0;
    for (const r of results) {
      connected += r.connected;
      failed += r.failed;
      addCounts(errors, r.errors);
      handshake.merge(r.handshake);
      rss += r.rssGrowthBytes;
      attempted += r.attempted;
      if (r.attempted > 0) {
        first = Math.min(first, r.firstStartEpochMs);
        last = Math.max(last, r.lastDoneEpochMs);
      }
    }
    const seconds = last > first ? (last - first) / 1000 : 0;
    return { attempted, connected, failed, errors, seconds, ratePerSecond: seconds > 0 ? connected / seconds : 0, handshake, generatorRssGrowthBytes: rss };
  }

  /** Worker w gets users w, w+N, w+2N ... so that worker-local pairs are distinct users. */
  split<T>(items: T[]): T[][] {
    const shares: T[][] = this.workers.map(() => []);
    items.forEach((item, i) => shares[i % this.workers.length].push(item));
    return shares;
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ipc.request({ cmd: "disconnect" }, 30_000)));
  }

  probe(worker: number, sender: number, recipientUid: string, timeoutMs: number) {
    return this.workers[worker].ipc.request<{ ack: { ok: boolean; error?: { code: string; message: string } }; ms: number }>(
      { cmd: "probe", sender, recipientUid, timeoutMs },
      timeoutMs + 5_000,
    );
  }

  /** Direct messages at `totalRate` msg/s spread evenly over the workers, among `clientsPerWorker` clients each. */
  async direct(clientsPerWorker: number, totalRate: number, durationMs: number, drainMs: number, contentBytes: number): Promise<MergedDirect> {
    const rate = totalRate / this.workers.length;
    const results = await Promise.all(
      this.workers.map((w) =>
        w.ipc.request<DirectResult>({ cmd: "direct", activeClients: clientsPerWorker, rate, durationMs, drainMs, contentBytes }, durationMs + drainMs + 30_000),
      ),
    );
    const latency = new Histogram();
    const ackLatency = new Histogram();
    const ackErrors: Record<string, number> = {};
    let sent = 0, acked = 0, received = 0, lost = 0, unexpected = 0, maxBehindMs = 0, sendSeconds = 0, refusedWithRetryAfter = 0;
    for (const r of results) {
      sent += r.sent;
      acked += r.acked;
      received += r.received;
      lost += r.lost;
      unexpected += r.unexpected;
      refusedWithRetryAfter += r.refusedWithRetryAfter ?? 0;
      maxBehindMs = Math.max(maxBehindMs, r.maxBehindMs);
      sendSeconds = Math.max(sendSeconds, r.sendSeconds);
      addCounts(ackErrors, r.ackErrors);
      latency.merge(r.latency);
      ackLatency.merge(r.ackLatency);
    }
    return { targetRate: totalRate, achievedRate: sendSeconds > 0 ? sent / sendSeconds : 0, sent, acked, ackErrors, received, lost, unexpected, refusedWithRetryAfter, maxBehindMs, latency, ackLatency };
  }

  /** Queues `perUser` messages for each recipient from one client (they must be offline). */
  seed(worker: number, sender: number, recipients: string[], perUser: number, concurrency: number, timeoutMs: number) {
    return this.workers[worker].ipc.request<{ sent: number; acked: number; errors: Record<string, number>; ackedBy: Record<string, number> }>(
      { cmd: "seed", sender, recipients, perUser, concurrency, timeoutMs },
      timeoutMs + 30_000,
    );
  }

  /** Every user connects at once, spread over the workers; see the worker's `storm`. */
  async storm(url: string, users: BenchUser[], addressOf: (worker: number) => string[], expectedOf: (uid: string) => number, timeoutMs: number, attemptTimeoutMs: number): Promise<MergedStorm> {
    const shares = this.split(users);
    const results = await Promise.all(
      this.workers.map((w, i) =>
        w.ipc.request<StormResult>(
          { cmd: "storm", url, users: shares[i], localAddresses: addressOf(i), expected: shares[i].map((u) => expectedOf(u.uid)), timeoutMs, attemptTimeoutMs },
          timeoutMs + 30_000,
        ),
      ),
    );
    const admittedAt = new Histogram();
    const completeAt = new Histogram();
    const errors: Record<string, number> = {};
    let admitted = 0, complete = 0, shed = 0, attempts = 0, retries = 0, gaveUp = 0, start = Infinity, lastAdmitted = 0, lastComplete = 0;
    for (const r of results) {
      admitted += r.admitted;
      attempts += r.attempts;
      retries += r.retries;
      gaveUp += r.gaveUp;
      complete += r.complete;
      shed += r.shed;
      addCounts(errors, r.errors);
      admittedAt.merge(r.admitted_ms);
      completeAt.merge(r.complete_ms);
      start = Math.min(start, r.startEpochMs);
      lastAdmitted = Math.max(lastAdmitted, r.lastAdmittedEpochMs);
      lastComplete = Math.max(lastComplete, r.lastCompleteEpochMs);
    }
    const since = (t: number) => (t > start ? (t - start) / 1000 : 0);
    return { users: users.length, admitted, complete, shed, errors, attempts, retries, gaveUp, admittedSeconds: since(lastAdmitted), completeSeconds: since(lastComplete), admittedAt, completeAt };
  }

  groupCreate(worker: number, sender: number, name: string, memberIds: string[], timeoutMs: number) {
    return this.workers[worker].ipc.request<{ conversationId: string; members: number | null }>(
      { cmd: "groupCreate", sender, name, memberIds, timeoutMs },
      timeoutMs + 5_000,
    );
  }

  /**
   * `count` group messages from one sender; per message, the time until the last member had it
   * (epoch clocks of the worker processes) and how many members got it.
   */
  async groupFanOut(worker: number, sender: number, conversationId: string, count: number, intervalMs: number, contentBytes: number, expectedPerMessage: number) {
    await Promise.all(this.workers.map((w) => w.ipc.request({ cmd: "groupTrack", conversationId }, 10_000)));
    const sent = await this.workers[worker].ipc.request<GroupSendResult>(
      { cmd: "groupSend", sender, conversationId, count, intervalMs, contentBytes },
      count * intervalMs + 30_000,
    );
    // Every member should have every message: wait for the stragglers (bounded), then collect.
    const expected = sent.sendTimes.length * expectedPerMessage;
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      const partial = await Promise.all(this.workers.map((w) => w.ipc.request<GroupReport>({ cmd: "groupReport", final: false }, 10_000)));
      const got = partial.reduce((sum, r) => sum + r.receipts.reduce((s, [, n]) => s + n, 0), 0);
      if (got >= expected) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const reports = await Promise.all(this.workers.map((w) => w.ipc.request<GroupReport>({ cmd: "groupReport", final: true }, 10_000)));
    const byMessage = new Map<string, { count: number; last: number }>();
    for (const report of reports) {
      for (const [clientId, n, last] of report.receipts) {
        const e = byMessage.get(clientId);
        if (e) {
          e.count += n;
          e.last = Math.max(e.last, last);
        } else byMessage.set(clientId, { count: n, last });
      }
    }
    const lastMember = new Histogram();
    const deliveries: number[] = [];
    for (const [clientId, sentAt] of sent.sendTimes) {
      const e = byMessage.get(clientId);
      deliveries.push(e?.count ?? 0);
      if (e) lastMember.record(Math.max(0, e.last - sentAt));
    }
    return { lastMember, deliveries, acked: sent.acked, ackErrors: sent.ackErrors, ackLatency: Histogram.from(sent.ackLatency) };
  }

  presence(worker: number, args: { subject: BenchUser; subscriber: number; url: string; localAddress: string; repeats: number; timeoutMs: number }) {
    return this.workers[worker].ipc.request<PresenceResult>({ cmd: "presence", ...args }, args.repeats * (2 * args.timeoutMs + 1_000) + 20_000);
  }

  /** Sends still waiting for their ack, over every worker. */
  async outstanding(): Promise<number> {
    const all = await Promise.all(this.workers.map((w) => w.ipc.request<number>({ cmd: "outstanding" }, 10_000)));
    return all.reduce((a, b) => a + b, 0);
  }

  /** CPU seconds the generator processes used so far (user + system), to tell whether the generator kept up. */
  async cpuSeconds(): Promise<number> {
    const all = await Promise.all(this.workers.map((w) => w.ipc.request<{ user: number; system: number }>({ cmd: "cpu" }, 10_000)));
    return all.reduce((sum, c) => sum + (c.user + c.system) / 1e6, 0);
  }

  async memory(): Promise<number> {
    const all = await Promise.all(this.workers.map((w) => w.ipc.request<{ rss: number }>({ cmd: "memory" }, 10_000)));
    return all.reduce((sum, m) => sum + m.rss, 0);
  }
}

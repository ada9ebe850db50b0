import { GatewayError } from "../errors";
import type { GatewayMetrics } from "./metrics";

export interface LoadLimits {
  /** Store operations (Firestore calls of client requests) in flight at once; past it, new sends are refused. */
  maxInFlightStoreOps: number;
  /** Admissions (token check and the reads before `auth_success`) in progress at once; past it, new connections are refused. */
  maxPendingAdmissions: number;
  /** Event-loop lag (ms) past which new sends are refused: the process itself is past its CPU capacity. */
  maxEventLoopLagMs: number;
  /** What a refused client is told to wait before retrying. */
  retryAfterMs: number;
}

/** How often the event loop's lag is sampled. */
const LAG_SAMPLE_MS = 50;

export type ShedKind = "store" | "cpu" | "admission";

/**
 * Load shedding: past its capacity an instance refuses new work at once with `UNAVAILABLE` and
 * `retryAfterMs`, instead of queueing it without bound (which makes every acked message late and, past
 * the store timeout, fails work it already accepted). Clients retry sends with the same `clientId`
 * (idempotent) and reconnect after `retryAfterMs`. Bounds: store operations in flight (a slow Firestore),
 * event-loop lag (a saturated CPU), admissions in progress (a reconnect storm). Refusals are counted in `/status` and `/metrics`.
 */
export class LoadShedder {
  private storeOps = 0;
  private admissions = 0;
  private lagMs = 0;
  private lastTick = performance.now();
  private readonly sampler: NodeJS.Timeout;

  constructor(
    private readonly limits: LoadLimits,
    private readonly metrics: GatewayMetrics,
  ) {
    // A timer that fires late by L ms means every callback waited about L ms: work is queueing in the process.
    this.sampler = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - this.lastTick - LAG_SAMPLE_MS);
      this.lastTick = now;
    }, LAG_SAMPLE_MS);
    this.sampler.unref();
  }

  /**
   * Throws UNAVAILABLE (with retryAfterMs) when the store already has as much in flight as allowed, or
   * when the event loop lags past its bound (CPU overload: accepting more would make every ack late).
   */
  requireStoreCapacity(): void {
    const busyStore = this.storeOps >= this.limits.maxInFlightStoreOps;
    const lagging = this.currentLagMs() > this.limits.maxEventLoopLagMs;
    if (!busyStore && !lagging) return;
    this.metrics.loadShed.inc({ kind: busyStore ? "store" : "cpu" });
    const why = busyStore ? `${this.limits.maxInFlightStoreOps} store operations in flight` : `event loop ${Math.round(this.currentLagMs())} ms behind`;
    throw new GatewayError("UNAVAILABLE", `This gateway is at its capacity (${why}); retry shortly with the same clientId.`, {
      retryAfterMs: this.limits.retryAfterMs,
    });
  }

  /** The lag seen at the last sample, or the time since it when the loop has been blocked longer. */
  private currentLagMs(): number {
    return Math.max(this.lagMs, performance.now() - this.lastTick - LAG_SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.sampler);
  }

  /** Counts a store operation in flight until it settles. */
  trackStore<T>(operation: Promise<T>): Promise<T> {
    this.storeOps += 1;
    this.metrics.storeOpsInFlight.set(this.storeOps);
    const done = () => {
      this.storeOps -= 1;
      this.metrics.storeOpsInFlight.set(this.storeOps);
    };
    operation.then(done, done);
    return operation;
  }

  /** Starts an admission, or answers the refusal to send when too many are in progress. */
  startAdmission(): GatewayError | undefined {
    if (this.admissions >= this.limits.maxPendingAdmissions) {
      this.metrics.loadShed.inc({ kind: "admission" });
      return new GatewayError("UNAVAILABLE", `This gateway is admitting ${this.limits.maxPendingAdmissions} connections already; reconnect shortly.`, {
        retryAfterMs: this.limits.retryAfterMs,
      });
    }
    this.admissions += 1;
    this.metrics.admissionsPending.set(this.admissions);
    return undefined;
  }

  endAdmission(): void {
    this.admissions = Math.max(0, this.admissions - 1);
    this.metrics.admissionsPending.set(this.admissions);
  }

  get inFlight() {
    return { storeOps: this.storeOps, admissions: this.admissions };
  }
}

import { GatewayError } from "../errors";
import type { GatewayMetrics } from "./metrics";

export interface LoadLimits {
  /** Store operations (Firestore calls of client requests) in flight at once; past it, new sends are refused. */
  maxInFlightStoreOps: number;
  /** Admissions (token check and the reads before `auth_success`) in progress at once; past it, new connections are refused. */
  maxPendingAdmissions: number;
  /** What a refused client is told to wait before retrying. */
  retryAfterMs: number;
}

export type ShedKind = "store" | "admission";

/**
 * Load shedding: past its capacity an instance refuses new work at once with `UNAVAILABLE` and
 * `retryAfterMs`, instead of queueing it without bound (which makes every acked message late and, past
 * the store timeout, fails work it already accepted). Clients retry sends with the same `clientId`
 * (idempotent) and reconnect after `retryAfterMs`. Refusals are counted in `/status` and `/metrics`.
 */
export class LoadShedder {
  private storeOps = 0;
  private admissions = 0;

  constructor(
    private readonly limits: LoadLimits,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Throws UNAVAILABLE (with retryAfterMs) when the store already has as much in flight as allowed. */
  requireStoreCapacity(): void {
    if (this.storeOps < this.limits.maxInFlightStoreOps) return;
    this.metrics.loadShed.inc({ kind: "store" });
    throw new GatewayError("UNAVAILABLE", `This gateway is at its capacity (${this.limits.maxInFlightStoreOps} store operations in flight); retry shortly with the same clientId.`, {
      retryAfterMs: this.limits.retryAfterMs,
    });
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

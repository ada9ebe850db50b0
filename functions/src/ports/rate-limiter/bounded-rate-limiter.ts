import type { Clock } from "../clock";
import { MemoryRateLimiter } from "./memory-rate-limiter";
import type { RateDecision, RateLimiter } from "./rate-limiter";

/**
 * A limiter that answers within `timeoutMs` whatever Redis does: a call the shared limiter has not
 * answered by then is decided by this process's memory window (as the facade does for Redis errors),
 * so a Redis that hangs instead of failing never holds a request.
 */
export class BoundedRateLimiter implements RateLimiter {
  private readonly local: MemoryRateLimiter;

  constructor(
    private readonly inner: RateLimiter,
    clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.local = new MemoryRateLimiter(clock);
  }

  consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    let timer: NodeJS.Timeout;
    const fallback = new Promise<RateDecision>((resolve) => {
      timer = setTimeout(() => resolve(this.local.consume(key, limit, windowMs)), this.timeoutMs);
    });
    const shared = this.inner.consume(key, limit, windowMs).catch(() => this.local.consume(key, limit, windowMs));
    return Promise.race([shared, fallback]).finally(() => clearTimeout(timer));
  }

  async block(key: string, ms: number): Promise<void> {
    await Promise.all([this.local.block(key, ms), this.inner.block(key, ms).catch(() => undefined)]);
  }
}

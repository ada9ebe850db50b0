import type { Clock } from "../clock";
import type { RateDecision, RateLimiter } from "./rate-limiter";

/** Fixed windows in this process's memory: single instance, or while Redis is away. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(private readonly clock: Clock) {}

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = this.clock.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    const allowed = window.count <= limit;
    return { allowed, retryAfterMs: allowed ? 0 : window.resetAt - now, remaining: Math.max(0, limit - window.count) };
  }

  async block(key: string, ms: number): Promise<void> {
    this.windows.set(key, { count: Number.MAX_SAFE_INTEGER, resetAt: this.clock.now() + ms });
  }

  /** Forget expired windows now and then so idle keys do not pile up. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

import type Redis from "ioredis";
import { GatewayError } from "../../errors";
import type { Clock } from "../clock";
import { MemoryRateLimiter } from "./memory-rate-limiter";
import type { RateDecision, RateLimiter } from "./rate-limiter";
import { RedisRateLimiter } from "./redis-rate-limiter";

export * from "./rate-limiter";

export interface RateRule {
  limit: number;
  windowMs: number;
}

/**
 * The limiter the gateway uses: Redis (shared by all instances) when configured, falling back to this
 * process's memory for any call Redis cannot answer, so a Redis outage never blocks or fails a send.
 */
export class RateLimiterFacade implements RateLimiter {
  private readonly memory: MemoryRateLimiter;
  private readonly redis?: RedisRateLimiter;

  constructor(clock: Clock, redis?: Redis) {
    this.memory = new MemoryRateLimiter(clock);
    this.redis = redis ? new RedisRateLimiter(redis) : undefined;
  }

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    if (this.redis) {
      try {
        return await this.redis.consume(key, limit, windowMs);
      } catch {
        // Redis away: fall through to the local window.
      }
    }
    return this.memory.consume(key, limit, windowMs);
  }

  /** In both: the penalty holds while Redis is away too. */
  async block(key: string, ms: number): Promise<void> {
    await Promise.all([this.memory.block(key, ms), this.redis?.block(key, ms).catch(() => undefined)]);
  }
}

/**
 * The one rate-limit check: consumes one call of `rule` for `key`, or throws RATE_LIMITED with
 * `retryAfterMs` (clients wait that long, then retry). `what` names the calls in the message.
 */
export async function requireWithinLimit(limiter: RateLimiter, key: string, rule: RateRule, what: string): Promise<void> {
  const decision = await limiter.consume(key, rule.limit, rule.windowMs);
  if (decision.allowed) return;
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  throw new GatewayError("RATE_LIMITED", `At most ${rule.limit} ${what} per ${rule.windowMs / 1000} s; retry in ${seconds} s.`, {
    retryAfterMs: decision.retryAfterMs,
  });
}

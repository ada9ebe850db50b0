import type Redis from "ioredis";
import type { Clock } from "../clock";
import { MemoryRateLimiter } from "./memory-rate-limiter";
import type { RateDecision, RateLimiter } from "./rate-limiter";
import { RedisRateLimiter } from "./redis-rate-limiter";

export * from "./rate-limiter";

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

  get mode(): "redis" | "memory" {
    return this.redis ? "redis" : "memory";
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
}

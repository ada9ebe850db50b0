import type Redis from "ioredis";
import type { RateDecision, RateLimiter } from "./rate-limiter";

// INCR the window's counter, start its expiry on the first hit, answer count and time left: one round trip.
const CONSUME = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }
`;

/** A counter past any limit: the window's TTL is then the penalty left. */
const SPENT = 2 ** 40;

type WithConsume = Redis & { talowaRateConsume(key: string, windowMs: number): Promise<[number, number]> };

/** Fixed windows in Redis, shared by every gateway instance (the script runs by its SHA: EVALSHA). */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithConsume;

  constructor(
    redis: Redis,
    private readonly prefix = "talowa:rl:",
  ) {
    if (!("talowaRateConsume" in redis)) redis.defineCommand("talowaRateConsume", { lua: CONSUME, numberOfKeys: 1 });
    this.redis = redis as WithConsume;
  }

  async consume(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const [count, ttl] = await this.redis.talowaRateConsume(this.prefix + key, windowMs);
    const allowed = count <= limit;
    return { allowed, retryAfterMs: allowed ? 0 : Math.max(1, ttl), remaining: Math.max(0, limit - count) };
  }

  async block(key: string, ms: number): Promise<void> {
    await this.redis.set(this.prefix + key, SPENT, "PX", ms);
  }
}

import type Redis from "ioredis";
import type { SequenceAllocator } from "./sequence-allocator";

// INCR only an existing counter; 0 tells the caller to seed it.
const NEXT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('INCR', KEYS[1])
`;
// Raise the counter to at least the seed (never lower it: another instance may have seeded first), then INCR.
const SEED_AND_NEXT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local seed = tonumber(ARGV[1])
if seed > current then redis.call('SET', KEYS[1], seed) end
return redis.call('INCR', KEYS[1])
`;

/** One Redis counter per conversation (`talowa:seq:{cid}`): no Firestore document is written per message. */
export class RedisSequenceAllocator implements SequenceAllocator {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "talowa:seq:",
  ) {}

  async next(conversationId: string, floor: () => Promise<number>): Promise<number> {
    const key = this.prefix + conversationId;
    const value = Number(await this.redis.eval(NEXT, 1, key));
    if (value > 0) return value;
    return this.seedAndNext(conversationId, await floor());
  }

  async seedAndNext(conversationId: string, seed: number): Promise<number> {
    return Number(await this.redis.eval(SEED_AND_NEXT, 1, this.prefix + conversationId, seed));
  }
}

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

type WithSequence = Redis & {
  talowaSeqNext(key: string): Promise<number>;
  talowaSeqSeedAndNext(key: string, seed: number): Promise<number>;
};

/**
 * One Redis counter per conversation (`talowa:seq:{cid}`): no Firestore document is written per message.
 * The scripts run by their SHA (EVALSHA, loaded once), not as text with every call.
 */
export class RedisSequenceAllocator implements SequenceAllocator {
  private readonly redis: WithSequence;

  constructor(
    redis: Redis,
    private readonly prefix = "talowa:seq:",
  ) {
    if (!("talowaSeqNext" in redis)) redis.defineCommand("talowaSeqNext", { lua: NEXT, numberOfKeys: 1 });
    if (!("talowaSeqSeedAndNext" in redis)) redis.defineCommand("talowaSeqSeedAndNext", { lua: SEED_AND_NEXT, numberOfKeys: 1 });
    this.redis = redis as WithSequence;
  }

  async next(conversationId: string, floor: () => Promise<number>): Promise<number> {
    const value = Number(await this.redis.talowaSeqNext(this.prefix + conversationId));
    if (value > 0) return value;
    return this.seedAndNext(conversationId, await floor());
  }

  async seedAndNext(conversationId: string, seed: number): Promise<number> {
    return Number(await this.redis.talowaSeqSeedAndNext(this.prefix + conversationId, seed));
  }
}

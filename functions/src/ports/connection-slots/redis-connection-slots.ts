import type Redis from "ioredis";
import type { ConnectionSlots, SlotClaim, SlotRef } from "./connection-slots";

const slotsKey = (uid: string) => `talowa:slots:{${uid}}`;

/** Drops expired slots, then adds this one if the user holds fewer than the maximum; answers { admitted, live }. */
const CLAIM = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return {1, redis.call('ZCARD', KEYS[1])}
end
local live = redis.call('ZCARD', KEYS[1])
if live >= tonumber(ARGV[2]) then return {0, live} end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, live + 1}
`;

/** Slots shared by every instance: one sorted set per user (member: socket id, score: expiry). */
export class RedisConnectionSlots implements ConnectionSlots {
  constructor(private readonly redis: Redis) {}

  async claim(ref: SlotRef, max: number, now: number, ttlMs: number): Promise<SlotClaim> {
    const [admitted, live] = (await this.redis.eval(CLAIM, 1, slotsKey(ref.uid), now, max, now + ttlMs, ref.connId, ttlMs)) as [number, number];
    return { admitted: admitted === 1, live };
  }

  async release(ref: SlotRef): Promise<void> {
    await this.redis.zrem(slotsKey(ref.uid), ref.connId);
  }

  async refresh(refs: SlotRef[], now: number, ttlMs: number): Promise<void> {
    if (refs.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const ref of refs) {
      pipeline.zadd(slotsKey(ref.uid), "XX", now + ttlMs, ref.connId);
      pipeline.pexpire(slotsKey(ref.uid), ttlMs);
    }
    await pipeline.exec();
  }
}

import type Redis from "ioredis";
import { withTimeout } from "../../util/with-timeout";
import type { ConnectionSlots, SlotClaim, SlotRef } from "./connection-slots";
import { MemoryConnectionSlots } from "./memory-connection-slots";
import { RedisConnectionSlots } from "./redis-connection-slots";

export * from "./connection-slots";
export { MemoryConnectionSlots, RedisConnectionSlots };

/**
 * Redis (every instance shares the count) when configured, falling back to this process's memory for
 * any call Redis cannot answer in `timeoutMs`: an outage loosens the cap to per instance, never blocks admission.
 */
export class ConnectionSlotsFacade implements ConnectionSlots {
  private readonly memory = new MemoryConnectionSlots();
  private readonly redis?: RedisConnectionSlots;

  constructor(redis: Redis | undefined, private readonly timeoutMs = 2_000) {
    this.redis = redis ? new RedisConnectionSlots(redis) : undefined;
  }

  claim(ref: SlotRef, max: number, now: number, ttlMs: number): Promise<SlotClaim> {
    return this.either((s) => s.claim(ref, max, now, ttlMs));
  }

  async release(ref: SlotRef): Promise<void> {
    await Promise.all([this.memory.release(ref), this.redis ? this.bounded(this.redis.release(ref)).catch(() => undefined) : undefined]);
  }

  refresh(refs: SlotRef[], now: number, ttlMs: number): Promise<void> {
    return this.either((s) => s.refresh(refs, now, ttlMs));
  }

  private async either<T>(op: (slots: ConnectionSlots) => Promise<T>): Promise<T> {
    if (this.redis) {
      try {
        return await this.bounded(op(this.redis));
      } catch {
        // Redis away: this process's count.
      }
    }
    return op(this.memory);
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.timeoutMs, () => new Error(`Redis did not answer within ${this.timeoutMs} ms`));
  }
}

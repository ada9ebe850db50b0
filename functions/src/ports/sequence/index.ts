import type Redis from "ioredis";
import type { Logger } from "../logger";
import { MemorySequenceAllocator } from "./memory-sequence-allocator";
import { RedisSequenceAllocator } from "./redis-sequence-allocator";
import type { SequenceAllocator } from "./sequence-allocator";

export * from "./sequence-allocator";

/**
 * Redis counters when Redis is configured, else this process's counters. While Redis fails, numbers
 * come from the fallback (a Firestore transaction, or memory); the first Redis allocation of a
 * conversation after that re-seeds its counter above everything handed out meanwhile.
 * Decision and failure cases: docs/DATA-MODEL.md ("Sequence numbers").
 */
export class SequenceFacade implements SequenceAllocator {
  private readonly redis?: RedisSequenceAllocator;
  private readonly highestFromFallback = new Map<string, number>();

  constructor(
    private readonly fallback: SequenceAllocator,
    private readonly logger: Logger,
    redis?: Redis,
  ) {
    this.redis = redis ? new RedisSequenceAllocator(redis) : undefined;
  }

  async next(conversationId: string, floor: () => Promise<number>): Promise<number> {
    if (!this.redis) return this.fallback.next(conversationId, floor);
    try {
      const fallbackHigh = this.highestFromFallback.get(conversationId);
      if (fallbackHigh === undefined) return await this.redis.next(conversationId, floor);
      const value = await this.redis.seedAndNext(conversationId, Math.max(fallbackHigh, await floor()));
      this.highestFromFallback.delete(conversationId);
      return value;
    } catch (error) {
      this.logger.warn("sequence from fallback (redis unavailable)", { conversationId, error: String(error) });
      const value = await this.fallback.next(conversationId, floor);
      this.highestFromFallback.set(conversationId, Math.max(this.highestFromFallback.get(conversationId) ?? 0, value));
      if (this.fallback instanceof MemorySequenceAllocator) this.fallback.raise(conversationId, value);
      return value;
    }
  }
}

import type Redis from "ioredis";
import { LRUCache } from "lru-cache";

/**
 * Remembers which stored messages were routed to their recipients, so that a retried send that finds
 * its message already stored routes it only if the first attempt never did (it failed, or its instance
 * died, between storing and routing). Redis makes that known to every instance; memory is the fallback.
 */
export interface RoutedLedger {
  markRouted(messageId: string): Promise<void>;
  wasRouted(messageId: string): Promise<boolean>;
}

const KEEP_MS = 24 * 3_600_000;
const MEMORY_ENTRIES = 50_000;

export class MemoryRoutedLedger implements RoutedLedger {
  private readonly routed = new LRUCache<string, true>({ max: MEMORY_ENTRIES });

  async markRouted(messageId: string) {
    this.routed.set(messageId, true);
  }

  async wasRouted(messageId: string) {
    return this.routed.has(messageId);
  }
}

export class RedisRoutedLedger implements RoutedLedger {
  private readonly memory = new MemoryRoutedLedger();

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "talowa:routed:",
  ) {}

  async markRouted(messageId: string) {
    await this.memory.markRouted(messageId);
    await this.redis.set(this.prefix + messageId, "1", "PX", KEEP_MS).catch(() => undefined);
  }

  async wasRouted(messageId: string) {
    if (await this.memory.wasRouted(messageId)) return true;
    try {
      return (await this.redis.exists(this.prefix + messageId)) === 1;
    } catch {
      return false; // Redis away: route again; recipients drop a message whose id they have
    }
  }
}

export const createRoutedLedger = (redis?: Redis): RoutedLedger => (redis ? new RedisRoutedLedger(redis) : new MemoryRoutedLedger());

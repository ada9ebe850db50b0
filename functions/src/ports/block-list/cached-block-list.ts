import { LRUCache } from "lru-cache";
import type { BlockChecks, BlockList } from "./block-list";

const CACHED_USERS = 50_000;

/**
 * A block list with both directions cached per user for `ttlMs`; `invalidate` drops a pair's entries
 * (the blocking feature calls it on every instance when a block changes, through serverSideEmit).
 */
export class CachedBlockList implements BlockChecks {
  private readonly blocked: LRUCache<string, Set<string>>;
  private readonly blockers: LRUCache<string, Set<string>>;

  constructor(
    readonly store: BlockList,
    ttlMs: number,
  ) {
    const options = { max: CACHED_USERS, ttl: Math.max(1, ttlMs) };
    this.blocked = new LRUCache(options);
    this.blockers = new LRUCache(options);
  }

  async isBlocked(blocker: string, blocked: string): Promise<boolean> {
    return (await this.blockedSet(blocker)).has(blocked);
  }

  async eitherBlocked(a: string, b: string): Promise<boolean> {
    const [ab, ba] = await Promise.all([this.isBlocked(a, b), this.isBlocked(b, a)]);
    return ab || ba;
  }

  async blockersOf(uid: string): Promise<Set<string>> {
    const cached = this.blockers.get(uid);
    if (cached) return cached;
    const loaded = new Set(await this.store.blockersOf(uid));
    this.blockers.set(uid, loaded);
    return loaded;
  }

  /** A block between `blocker` and `blocked` changed (here or on another instance). */
  invalidate(blocker: string, blocked: string): void {
    this.blocked.delete(blocker);
    this.blockers.delete(blocked);
  }

  private async blockedSet(uid: string): Promise<Set<string>> {
    const cached = this.blocked.get(uid);
    if (cached) return cached;
    const loaded = new Set(await this.store.blockedBy(uid));
    this.blocked.set(uid, loaded);
    return loaded;
  }
}

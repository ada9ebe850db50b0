import { LRUCache } from "lru-cache";
import { ConcurrencyLimit } from "../../util/concurrency";
import type { ChosenFields, UserRecords } from "./user-records";

/** Firestore's getAll is one RPC; more ids than this per call are split (each chunk still one RPC). */
const LOOKUP_CHUNK = 100;
/** "No lastSeen" (unknown uid, or a user never seen offline) is remembered too: `null`. */
type Remembered = number | null;

export interface CachedUserRecordsOptions {
  ttlMs: number;
  concurrency: number;
  max?: number;
}

/**
 * The cost bound of presence lookups (issue 12): `lastSeenOf` answers from a cache that remembers
 * negative answers too, asks the store only for ids it does not know, in chunks of at most 100 ids, and
 * at most `concurrency` chunks at once per instance. Writes go through and keep the cache right.
 */
export class CachedUserRecords implements UserRecords {
  private readonly cache: LRUCache<string, { v: Remembered }>;
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly inner: UserRecords,
    options: CachedUserRecordsOptions,
  ) {
    this.cache = new LRUCache({ max: options.max ?? 50_000, ttl: Math.max(1, options.ttlMs) });
    this.limit = new ConcurrencyLimit(options.concurrency);
  }

  loggedIn(uid: string, at: number): Promise<void> {
    return this.inner.loggedIn(uid, at);
  }

  wasActive(uid: string, at: number): Promise<void> {
    return this.inner.wasActive(uid, at);
  }

  async wentOffline(uid: string, lastSeen: number): Promise<void> {
    this.cache.set(uid, { v: lastSeen });
    await this.inner.wentOffline(uid, lastSeen);
  }

  choseStatus(uid: string, presence: ChosenFields): Promise<void> {
    return this.inner.choseStatus(uid, presence);
  }

  /** Writes the wrapped records may batch (BatchedUserRecords) before the gateway closes. */
  async flush(): Promise<void> {
    await (this.inner as UserRecords & { flush?(): Promise<void> }).flush?.();
  }

  async lastSeenOf(uids: string[]): Promise<Map<string, number>> {
    const unknown = [...new Set(uids)].filter((uid) => !this.cache.has(uid));
    for (let i = 0; i < unknown.length; i += LOOKUP_CHUNK) {
      const chunk = unknown.slice(i, i + LOOKUP_CHUNK);
      const found = await this.limit.run(() => this.inner.lastSeenOf(chunk));
      for (const uid of chunk) this.cache.set(uid, { v: found.get(uid) ?? null });
    }
    const answer = new Map<string, number>();
    for (const uid of uids) {
      const v = this.cache.get(uid)?.v;
      if (typeof v === "number") answer.set(uid, v);
    }
    return answer;
  }
}

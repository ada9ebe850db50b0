import { LRUCache } from "lru-cache";
import type { PresencePrivacy, PresencePrivacyStore } from "./presence-privacy";

export * from "./presence-privacy";
export { FirestorePresencePrivacy } from "./firestore-presence-privacy";
export { MemoryPresencePrivacy } from "./memory-presence-privacy";

/**
 * Settings trusted for `ttlMs` per user on this instance (a change on another instance is seen within it;
 * on this one at once): presence answers and announcements read them for every user they show.
 */
export class CachedPresencePrivacy implements PresencePrivacyStore {
  private readonly cache: LRUCache<string, PresencePrivacy>;

  constructor(private readonly inner: PresencePrivacyStore, ttlMs: number, max = 50_000) {
    this.cache = new LRUCache({ max, ttl: Math.max(1, ttlMs) });
  }

  async settingsOf(uids: string[]): Promise<Map<string, PresencePrivacy>> {
    const result = new Map<string, PresencePrivacy>();
    const missing = uids.filter((uid) => {
      const cached = this.cache.get(uid);
      if (cached) result.set(uid, cached);
      return !cached;
    });
    if (missing.length === 0) return result;
    for (const [uid, settings] of await this.inner.settingsOf(missing)) {
      this.cache.set(uid, settings);
      result.set(uid, settings);
    }
    return result;
  }

  async update(uid: string, change: Partial<PresencePrivacy>): Promise<PresencePrivacy> {
    const next = await this.inner.update(uid, change);
    this.cache.set(uid, next);
    return next;
  }
}

import { LRUCache } from "lru-cache";
import type { ContactDirectory } from "./contact-directory";

/** A contact directory whose answers are trusted for `ttlMs` per user (at most `max` users remembered). */
export class CachedContactDirectory implements ContactDirectory {
  private readonly cache: LRUCache<string, Promise<string[]>>;

  constructor(
    private readonly inner: ContactDirectory,
    ttlMs: number,
    max = 10_000,
  ) {
    this.cache = new LRUCache({ max, ttl: Math.max(1, ttlMs) });
  }

  contactsOf(uid: string): Promise<string[]> {
    const cached = this.cache.get(uid);
    if (cached) return cached;
    const contacts = this.inner.contactsOf(uid);
    this.cache.set(uid, contacts);
    contacts.catch(() => this.cache.delete(uid));
    return contacts;
  }

  directContactsOf(uid: string): Promise<string[]> {
    return this.inner.directContactsOf ? this.inner.directContactsOf(uid) : Promise.resolve([]);
  }
}

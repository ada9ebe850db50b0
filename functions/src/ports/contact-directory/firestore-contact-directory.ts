import type { Firestore } from "firebase-admin/firestore";
import { LRUCache } from "lru-cache";
import type { ContactDirectory } from "./contact-directory";

const MAX_CACHED_USERS = 10_000;

/**
 * Contacts from `conversations where members array-contains uid` (docs/DATA-MODEL.md), cached for
 * `cacheMs` so reconnect storms do not become a query each.
 */
export class FirestoreContactDirectory implements ContactDirectory {
  private readonly cache: LRUCache<string, Promise<string[]>>;

  constructor(
    private readonly db: Firestore,
    cacheMs: number,
  ) {
    this.cache = new LRUCache({ max: MAX_CACHED_USERS, ttl: Math.max(1, cacheMs) });
  }

  contactsOf(uid: string): Promise<string[]> {
    const cached = this.cache.get(uid);
    if (cached) return cached;
    const contacts = this.query(uid);
    this.cache.set(uid, contacts);
    contacts.catch(() => this.cache.delete(uid));
    return contacts;
  }

  private async query(uid: string): Promise<string[]> {
    const snapshot = await this.db.collection("conversations").where("members", "array-contains", uid).select("members").get();
    const contacts = new Set<string>();
    for (const doc of snapshot.docs) {
      for (const member of (doc.get("members") as unknown[] | undefined) ?? []) {
        if (typeof member === "string" && member !== uid) contacts.add(member);
      }
    }
    return [...contacts];
  }
}

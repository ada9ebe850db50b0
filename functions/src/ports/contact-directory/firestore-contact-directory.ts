import type { Firestore } from "firebase-admin/firestore";
import type { ContactDirectory } from "./contact-directory";

const MAX_CACHED_USERS = 10_000;

/**
 * Contacts from `conversations where members array-contains uid` (docs/DATA-MODEL.md), cached for
 * `cacheMs` so reconnect storms do not become a query each.
 */
export class FirestoreContactDirectory implements ContactDirectory {
  private readonly cache = new Map<string, { until: number; contacts: Promise<string[]> }>();

  constructor(
    private readonly db: Firestore,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  contactsOf(uid: string): Promise<string[]> {
    const cached = this.cache.get(uid);
    if (cached && cached.until > this.now()) return cached.contacts;
    const contacts = this.query(uid);
    this.remember(uid, contacts);
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

  private remember(uid: string, contacts: Promise<string[]>): void {
    if (this.cache.size >= MAX_CACHED_USERS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(uid, { until: this.now() + this.cacheMs, contacts });
  }
}

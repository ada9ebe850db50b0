import type { Firestore } from "firebase-admin/firestore";
import type { ChosenFields, UserRecords } from "./user-records";

/** `users/{uid}` in Firestore, written with merges so other features' fields stay. */
export class FirestoreUserRecords implements UserRecords {
  constructor(private readonly db: Firestore) {}

  loggedIn(uid: string, at: number): Promise<void> {
    return this.merge(uid, { lastLoginAt: at });
  }

  wasActive(uid: string, at: number): Promise<void> {
    return this.merge(uid, { lastActiveAt: at });
  }

  wentOffline(uid: string, lastSeen: number): Promise<void> {
    return this.merge(uid, { lastSeen });
  }

  choseStatus(uid: string, presence: ChosenFields): Promise<void> {
    const fields = Object.fromEntries(Object.entries(presence).filter(([, value]) => value !== undefined));
    return this.merge(uid, { presence: fields });
  }

  async lastSeenOf(uids: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (uids.length === 0) return found;
    const docs = await this.db.getAll(...uids.map((uid) => this.db.collection("users").doc(uid)), { fieldMask: ["lastSeen"] });
    for (const doc of docs) {
      const lastSeen = doc.get("lastSeen");
      if (typeof lastSeen === "number") found.set(doc.id, lastSeen);
    }
    return found;
  }

  private async merge(uid: string, fields: Record<string, unknown>): Promise<void> {
    await this.db.collection("users").doc(uid).set(fields, { merge: true });
  }
}

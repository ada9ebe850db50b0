import type { Firestore } from "firebase-admin/firestore";
import { DEFAULT_PRIVACY, PRIVACY_AUDIENCES, PresencePrivacy, PresencePrivacyStore, PrivacyAudience } from "./presence-privacy";

const CHUNK = 100;

/** `users/{uid}.presencePrivacy { lastSeen, customStatus }`, read with getAll in chunks of 100, written with merge. */
export class FirestorePresencePrivacy implements PresencePrivacyStore {
  constructor(private readonly db: Firestore) {}

  async settingsOf(uids: string[]): Promise<Map<string, PresencePrivacy>> {
    const result = new Map<string, PresencePrivacy>();
    for (let i = 0; i < uids.length; i += CHUNK) {
      const refs = uids.slice(i, i + CHUNK).map((uid) => this.db.collection("users").doc(uid));
      const docs = refs.length > 0 ? await this.db.getAll(...refs, { fieldMask: ["presencePrivacy"] }) : [];
      for (const doc of docs) result.set(doc.id, parse(doc.get("presencePrivacy")));
    }
    return result;
  }

  async update(uid: string, change: Partial<PresencePrivacy>): Promise<PresencePrivacy> {
    const ref = this.db.collection("users").doc(uid);
    return this.db.runTransaction(async (tx) => {
      const next = { ...parse((await tx.get(ref)).get("presencePrivacy")), ...change };
      tx.set(ref, { presencePrivacy: next }, { merge: true });
      return next;
    });
  }
}

function parse(raw: unknown): PresencePrivacy {
  const value = (raw ?? {}) as Record<string, unknown>;
  const audience = (v: unknown, fallback: PrivacyAudience) => ((PRIVACY_AUDIENCES as readonly unknown[]).includes(v) ? (v as PrivacyAudience) : fallback);
  return { lastSeen: audience(value.lastSeen, DEFAULT_PRIVACY.lastSeen), customStatus: audience(value.customStatus, DEFAULT_PRIVACY.customStatus) };
}

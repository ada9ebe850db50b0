import type { Firestore } from "firebase-admin/firestore";
import type { ChosenFields, UserRecords } from "./user-records";

const MAX_BATCH = 500;

type Fields = { lastLoginAt?: number; lastActiveAt?: number; lastSeen?: number; presence?: ChosenFields };

/**
 * `users/{uid}` in Firestore, written off the hot path: the presence fields of every user touched in a
 * short window (`flushMs`) are merged in memory and written together, in batched commits of at most 500
 * (`set` with merge, so other features' fields stay). A reconnect storm of N users costs N/500 commits
 * instead of 2N single writes. Each call resolves once its fields are committed; a failed commit fails
 * the calls it carried (callers log it: these fields are informational, never needed for delivery).
 */
export class BatchedUserRecords implements UserRecords {
  private pending = new Map<string, { fields: Fields; waiters: Array<{ resolve(): void; reject(e: unknown): void }> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Firestore,
    private readonly flushMs: number,
  ) {}

  loggedIn(uid: string, at: number) {
    return this.merge(uid, { lastLoginAt: at });
  }

  wasActive(uid: string, at: number) {
    return this.merge(uid, { lastActiveAt: at });
  }

  wentOffline(uid: string, lastSeen: number) {
    return this.merge(uid, { lastSeen });
  }

  choseStatus(uid: string, presence: ChosenFields) {
    const fields = Object.fromEntries(Object.entries(presence).filter(([, value]) => value !== undefined)) as ChosenFields;
    return this.merge(uid, { presence: fields });
  }

  /** lastSeen as stored, or as about to be (a value still waiting for its commit wins). */
  async lastSeenOf(uids: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (uids.length === 0) return found;
    const docs = await this.db.getAll(...uids.map((uid) => this.db.collection("users").doc(uid)), { fieldMask: ["lastSeen"] });
    for (const doc of docs) {
      const lastSeen = doc.get("lastSeen");
      if (typeof lastSeen === "number") found.set(doc.id, lastSeen);
    }
    for (const uid of uids) {
      const waiting = this.pending.get(uid)?.fields.lastSeen;
      if (waiting !== undefined) found.set(uid, waiting);
    }
    return found;
  }

  /** Writes everything waiting now (shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.pending;
    this.pending = new Map();
    const entries = [...due.entries()];
    const commits: Promise<void>[] = [];
    for (let i = 0; i < entries.length; i += MAX_BATCH) {
      const chunk = entries.slice(i, i + MAX_BATCH);
      const batch = this.db.batch();
      for (const [uid, { fields }] of chunk) batch.set(this.db.collection("users").doc(uid), fields, { merge: true });
      commits.push(
        batch.commit().then(
          () => chunk.forEach(([, p]) => p.waiters.forEach((w) => w.resolve())),
          (error) => chunk.forEach(([, p]) => p.waiters.forEach((w) => w.reject(error))),
        ),
      );
    }
    await Promise.all(commits);
  }

  private merge(uid: string, fields: Fields): Promise<void> {
    const entry = this.pending.get(uid) ?? { fields: {}, waiters: [] };
    const presence = fields.presence ? { ...entry.fields.presence, ...fields.presence } : entry.fields.presence;
    entry.fields = { ...entry.fields, ...fields, ...(presence ? { presence } : {}) };
    this.pending.set(uid, entry);
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    if (this.pending.size >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    return done;
  }
}

import type { Firestore } from "firebase-admin/firestore";
import type { BlockList } from "./block-list";

/**
 * Blocks on Firestore: a top-level `blocks` collection, one document `{blocker}_{blocked}` with the two
 * uids as fields, so both directions are single-field equality queries (no collection-group query).
 */
export class FirestoreBlockList implements BlockList {
  constructor(private readonly db: Firestore) {}

  private ref(blocker: string, blocked: string) {
    return this.db.collection("blocks").doc(`${blocker}_${blocked}`);
  }

  async block(blocker: string, blocked: string, now: number) {
    await this.ref(blocker, blocked).set({ blocker, blocked, createdAt: now });
  }

  async unblock(blocker: string, blocked: string) {
    await this.ref(blocker, blocked).delete();
  }

  async blockedBy(blocker: string) {
    const snapshot = await this.db.collection("blocks").where("blocker", "==", blocker).get();
    return snapshot.docs.sort((a, b) => Number(a.get("createdAt")) - Number(b.get("createdAt"))).map((d) => String(d.get("blocked")));
  }

  async blockersOf(uid: string) {
    const snapshot = await this.db.collection("blocks").where("blocked", "==", uid).get();
    return snapshot.docs.map((d) => String(d.get("blocker")));
  }
}

import type { Firestore } from "firebase-admin/firestore";
import type { BroadcastReceipts, ReachCounts } from "./broadcast-receipts";

export const BROADCAST_RECEIPTS = "broadcast_receipts";
const BATCH = 500;

/**
 * `broadcast_receipts/{broadcastId}_{uid}` { broadcastId, uid, targetedAt, deliveredAt, acknowledgedAt }: a
 * top-level collection with owner fields (the Node emulator has no collection-group queries), 0 for "not yet"
 * so equality and range filters count and page it (cursors are ignored by the Node emulator).
 */
export class FirestoreBroadcastReceipts implements BroadcastReceipts {
  constructor(private readonly db: Firestore) {}

  private ref(broadcastId: string, uid: string) {
    return this.db.collection(BROADCAST_RECEIPTS).doc(`${broadcastId}_${uid}`);
  }

  async target(broadcastId: string, uids: string[], at: number): Promise<void> {
    const unique = [...new Set(uids)];
    const commits: Promise<unknown>[] = [];
    for (let i = 0; i < unique.length; i += BATCH) {
      const batch = this.db.batch();
      for (const uid of unique.slice(i, i + BATCH)) {
        batch.set(this.ref(broadcastId, uid), { broadcastId, uid, targetedAt: at, deliveredAt: 0, acknowledgedAt: 0 });
      }
      commits.push(batch.commit());
    }
    await Promise.all(commits);
  }

  private async existing(broadcastId: string, uids: string[]) {
    const snapshots = await Promise.all([...new Set(uids)].map((uid) => this.ref(broadcastId, uid).get()));
    return snapshots.filter((s) => s.exists);
  }

  async targeted(broadcastId: string, uids: string[]): Promise<Set<string>> {
    return new Set((await this.existing(broadcastId, uids)).map((s) => String(s.get("uid"))));
  }

  async undelivered(broadcastId: string, uids: string[]): Promise<string[]> {
    return (await this.existing(broadcastId, uids)).filter((s) => !s.get("deliveredAt")).map((s) => String(s.get("uid")));
  }

  async markDelivered(broadcastId: string, uids: string[], at: number): Promise<void> {
    const pending = (await this.existing(broadcastId, uids)).filter((s) => !s.get("deliveredAt"));
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = this.db.batch();
      for (const s of pending.slice(i, i + BATCH)) batch.update(s.ref, { deliveredAt: at });
      await batch.commit();
    }
  }

  async acknowledge(broadcastId: string, uid: string, at: number): Promise<boolean> {
    const ref = this.ref(broadcastId, uid);
    return this.db.runTransaction(async (tx) => {
      const receipt = await tx.get(ref);
      if (!receipt.exists) return false;
      if (receipt.get("acknowledgedAt")) return true;
      tx.update(ref, { acknowledgedAt: at, deliveredAt: receipt.get("deliveredAt") || at });
      return true;
    });
  }

  async counts(broadcastId: string): Promise<ReachCounts> {
    const all = this.db.collection(BROADCAST_RECEIPTS).where("broadcastId", "==", broadcastId);
    const [targeted, delivered, acknowledged] = await Promise.all([
      all.count().get(),
      all.where("deliveredAt", ">", 0).count().get(),
      all.where("acknowledgedAt", ">", 0).count().get(),
    ]);
    return { targeted: targeted.data().count, delivered: delivered.data().count, acknowledged: acknowledged.data().count };
  }

  async unreached(broadcastId: string, page: { after?: string; limit: number }): Promise<string[]> {
    let query = this.db.collection(BROADCAST_RECEIPTS).where("broadcastId", "==", broadcastId).where("acknowledgedAt", "==", 0);
    if (page.after) query = query.where("uid", ">", page.after);
    const snapshot = await query.orderBy("uid").limit(page.limit).get();
    return snapshot.docs.map((d) => String(d.get("uid")));
  }
}

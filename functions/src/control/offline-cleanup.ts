import type { Firestore } from "firebase-admin/firestore";
import { OFFLINE_QUEUE } from "./backends";

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes offline-queue entries delivered before `now - retentionMs`, in batched commits of at most
 * `batchSize` (Firestore's limit is 500), until none is left or `maxBatches` ran. The Firestore TTL
 * policy on `expireAt` does the same in production; this is the emulator path and the safety net.
 */
export async function deleteDeliveredEntries(db: Firestore, options: { retentionMs: number; now: number; batchSize?: number; maxBatches?: number }) {
  const batchSize = Math.min(options.batchSize ?? 500, 500);
  const cutoff = options.now - options.retentionMs;
  let deleted = 0;
  for (let batches = 0; batches < (options.maxBatches ?? 20); batches++) {
    const old = await db.collection(OFFLINE_QUEUE).where("delivered", "==", true).where("deliveredAt", "<", cutoff).limit(batchSize).get();
    if (old.empty) break;
    const batch = db.batch();
    for (const doc of old.docs) batch.delete(doc.ref);
    await batch.commit();
    deleted += old.size;
    if (old.size < batchSize) break;
  }
  return { deleted, cutoff };
}

/**
 * Whether a write to the queue should trigger a sweep: an entry that just became delivered. Our own
 * deletions and new undelivered entries do not, and `minIntervalMs` keeps one instance from sweeping
 * on every delivery of a busy queue.
 */
export function createSweepGate() {
  let lastSweepAt = -Infinity;
  return (change: { before?: Record<string, unknown>; after?: Record<string, unknown> }, now: number, minIntervalMs: number): boolean => {
    const becameDelivered = change.after?.delivered === true && change.before?.delivered !== true;
    if (!becameDelivered || now - lastSweepAt < minIntervalMs) return false;
    lastSweepAt = now;
    return true;
  };
}

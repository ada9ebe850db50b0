import type { Firestore } from "firebase-admin/firestore";
import type { SequenceAllocator } from "./sequence-allocator";

/**
 * The fallback while Redis is away: a transaction on the conversation document's `seqFallback` field.
 * It serialises a conversation's senders (about one write per second per conversation in production),
 * which is acceptable only as a degraded mode.
 */
export class FirestoreSequenceAllocator implements SequenceAllocator {
  constructor(private readonly db: Firestore) {}

  async next(conversationId: string, floor: () => Promise<number>): Promise<number> {
    const stored = await floor();
    const ref = this.db.collection("conversations").doc(conversationId);
    return this.db.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      const value = Math.max(Number(snapshot.get("seqFallback") ?? 0), stored) + 1;
      tx.set(ref, { seqFallback: value }, { merge: true });
      return value;
    });
  }
}

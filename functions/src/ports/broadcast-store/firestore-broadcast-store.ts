import type { Firestore } from "firebase-admin/firestore";
import { BROADCAST_PRIORITIES, EmergencyBroadcastPayload } from "../../protocol";
import type { BroadcastStore } from "./broadcast-store";

export const BROADCASTS = "emergency_broadcasts";

/** `emergency_broadcasts/{id}` and `users/{uid}.lastBroadcastAt` (see docs/DATA-MODEL.md). */
export class FirestoreBroadcastStore implements BroadcastStore {
  constructor(private readonly db: Firestore) {}

  async save(broadcast: EmergencyBroadcastPayload): Promise<void> {
    await this.db.collection(BROADCASTS).doc(broadcast.id).create(broadcast);
  }

  async get(id: string): Promise<EmergencyBroadcastPayload | undefined> {
    const doc = await this.db.collection(BROADCASTS).doc(id).get();
    return doc.exists ? toBroadcast(doc.data()!) : undefined;
  }

  async since(afterMs: number, limit: number): Promise<EmergencyBroadcastPayload[]> {
    const snapshot = await this.db.collection(BROADCASTS).where("createdAt", ">", afterMs).orderBy("createdAt").limit(limit).get();
    return snapshot.docs.map((doc) => toBroadcast(doc.data()));
  }

  async newest(): Promise<number | null> {
    const snapshot = await this.db.collection(BROADCASTS).orderBy("createdAt", "desc").limit(1).get();
    return snapshot.empty ? null : Number(snapshot.docs[0].get("createdAt"));
  }

  async lastReceived(uid: string): Promise<number | null> {
    const user = await this.db.collection("users").doc(uid).get();
    const mark = user.get("lastBroadcastAt");
    return typeof mark === "number" ? mark : null;
  }

  async markReceived(uid: string, createdAt: number): Promise<void> {
    const ref = this.db.collection("users").doc(uid);
    await this.db.runTransaction(async (tx) => {
      const mark = (await tx.get(ref)).get("lastBroadcastAt");
      if (typeof mark === "number" && mark >= createdAt) return;
      tx.set(ref, { lastBroadcastAt: createdAt }, { merge: true });
    });
  }
}

function toBroadcast(data: FirebaseFirestore.DocumentData): EmergencyBroadcastPayload {
  const priority = BROADCAST_PRIORITIES.includes(data.priority) ? data.priority : "high";
  return {
    id: String(data.id),
    title: String(data.title ?? ""),
    body: String(data.body ?? ""),
    priority,
    senderId: String(data.senderId ?? ""),
    createdAt: Number(data.createdAt),
    ...(data.target ? { target: data.target } : {}),
  };
}

import { createHash } from "node:crypto";
import type { Firestore } from "firebase-admin/firestore";
import type { Device, DeviceRegistry } from "./device-registry";

export const DEVICES = "devices";
export const MUTES = "conversation_mutes";

const idOf = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 40);

/**
 * `devices/{sha256(token)}` { uid, token, platform, appVersion, lastSeen } (one document per token, so a token
 * belongs to one user) and `conversation_mutes/{uid}_{conversationId}` { uid, conversationId, until }.
 */
export class FirestoreDeviceRegistry implements DeviceRegistry {
  constructor(private readonly db: Firestore) {}

  async register(device: Device, max: number): Promise<void> {
    await this.db.collection(DEVICES).doc(idOf(device.token)).set(device);
    const mine = await this.db.collection(DEVICES).where("uid", "==", device.uid).get();
    if (mine.size <= max) return;
    const oldest = [...mine.docs].sort((a, b) => Number(a.get("lastSeen")) - Number(b.get("lastSeen"))).slice(0, mine.size - max);
    await Promise.all(oldest.map((d) => d.ref.delete()));
  }

  async unregister(uid: string, token: string): Promise<void> {
    const ref = this.db.collection(DEVICES).doc(idOf(token));
    const doc = await ref.get();
    if (doc.exists && doc.get("uid") === uid) await ref.delete();
  }

  async tokensOf(uids: string[]): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    const snapshots = await Promise.all([...new Set(uids)].map((uid) => this.db.collection(DEVICES).where("uid", "==", uid).get()));
    for (const snapshot of snapshots) {
      for (const doc of snapshot.docs) {
        const uid = String(doc.get("uid"));
        byUser.set(uid, [...(byUser.get(uid) ?? []), String(doc.get("token"))]);
      }
    }
    return byUser;
  }

  async remove(tokens: string[]): Promise<void> {
    await Promise.all(tokens.map((t) => this.db.collection(DEVICES).doc(idOf(t)).delete()));
  }

  async mute(uid: string, conversationId: string, until: number | null): Promise<void> {
    const ref = this.db.collection(MUTES).doc(`${uid}_${conversationId}`);
    if (until === null) await ref.delete();
    else await ref.set({ uid, conversationId, until });
  }

  async mutedAmong(conversationId: string, uids: string[], now: number): Promise<Set<string>> {
    const docs = await Promise.all([...new Set(uids)].map((uid) => this.db.collection(MUTES).doc(`${uid}_${conversationId}`).get()));
    return new Set(docs.filter((d) => d.exists && (d.get("until") === 0 || Number(d.get("until")) > now)).map((d) => String(d.get("uid"))));
  }
}

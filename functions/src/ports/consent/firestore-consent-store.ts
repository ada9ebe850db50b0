import type { Firestore } from "firebase-admin/firestore";
import type { GroupInvitation } from "../../protocol";
import type { ConsentStore, HistoryVisibility } from "./consent-store";

const BATCH = 400;

export class FirestoreConsentStore implements ConsentStore {
  constructor(private readonly db: Firestore) {}

  private invitationRef(conversationId: string, uid: string) {
    return this.db.collection("group_invitations").doc(`${conversationId}_${uid}`);
  }

  async invite(invitations: GroupInvitation[]): Promise<void> {
    for (let i = 0; i < invitations.length; i += BATCH) {
      const batch = this.db.batch();
      for (const inv of invitations.slice(i, i + BATCH)) batch.set(this.invitationRef(inv.conversationId, inv.uid), inv);
      await batch.commit();
    }
  }

  async invitation(conversationId: string, uid: string) {
    const doc = await this.invitationRef(conversationId, uid).get();
    return doc.exists ? (doc.data() as GroupInvitation) : undefined;
  }

  async invitationsOf(uid: string, limit: number) {
    const snap = await this.db.collection("group_invitations").where("uid", "==", uid).orderBy("invitedAt", "desc").limit(limit).get();
    return snap.docs.map((d) => d.data() as GroupInvitation);
  }

  async removeInvitation(conversationId: string, uid: string) {
    await this.invitationRef(conversationId, uid).delete();
  }

  async setHistoryVisibility(conversationId: string, visibility: HistoryVisibility) {
    await this.db.collection("conversation_history").doc(conversationId).set({ visibility }, { merge: true });
  }

  async historyVisibility(conversationId: string): Promise<HistoryVisibility> {
    const doc = await this.db.collection("conversation_history").doc(conversationId).get();
    return doc.get("visibility") === "all" ? "all" : "joined";
  }

  async recordJoins(conversationId: string, uids: string[], afterSeq: number) {
    const joins = this.db.collection("conversation_history").doc(conversationId).collection("joins");
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = this.db.batch();
      for (const uid of uids.slice(i, i + BATCH)) batch.set(joins.doc(uid), { afterSeq });
      await batch.commit();
    }
  }

  async historyFloor(conversationId: string, uid: string) {
    const doc = await this.db.collection("conversation_history").doc(conversationId).collection("joins").doc(uid).get();
    return doc.exists ? Number(doc.get("afterSeq")) || 0 : 0;
  }
}

import type { GroupInvitation } from "../../protocol";
import type { ConsentStore, HistoryVisibility } from "./consent-store";

export class MemoryConsentStore implements ConsentStore {
  private readonly invitations = new Map<string, GroupInvitation>();
  private readonly visibility = new Map<string, HistoryVisibility>();
  private readonly floors = new Map<string, number>();

  async invite(invitations: GroupInvitation[]): Promise<void> {
    for (const inv of invitations) this.invitations.set(`${inv.conversationId}_${inv.uid}`, inv);
  }
  async invitation(conversationId: string, uid: string) {
    return this.invitations.get(`${conversationId}_${uid}`);
  }
  async invitationsOf(uid: string, limit: number) {
    return [...this.invitations.values()].filter((i) => i.uid === uid).sort((a, b) => b.invitedAt - a.invitedAt).slice(0, limit);
  }
  async removeInvitation(conversationId: string, uid: string) {
    this.invitations.delete(`${conversationId}_${uid}`);
  }
  async setHistoryVisibility(conversationId: string, visibility: HistoryVisibility) {
    this.visibility.set(conversationId, visibility);
  }
  async historyVisibility(conversationId: string): Promise<HistoryVisibility> {
    return this.visibility.get(conversationId) ?? "joined";
  }
  async recordJoins(conversationId: string, uids: string[], afterSeq: number) {
    for (const uid of uids) this.floors.set(`${conversationId}_${uid}`, afterSeq);
  }
  async historyFloor(conversationId: string, uid: string) {
    return this.floors.get(`${conversationId}_${uid}`) ?? 0;
  }
}

import type { GroupInvitation } from "../../protocol";

export type HistoryVisibility = "joined" | "all";

/**
 * Consent state (issue 12): pending group invitations, and what history members added later may read.
 * Firestore: `group_invitations/{conversationId}_{uid}`, `conversation_history/{conversationId}` { visibility }
 * and `conversation_history/{conversationId}/joins/{uid}` { afterSeq } (docs/DATA-MODEL.md).
 */
export interface ConsentStore {
  invite(invitations: GroupInvitation[]): Promise<void>;
  invitation(conversationId: string, uid: string): Promise<GroupInvitation | undefined>;
  /** The user's pending invitations, newest first, at most `limit`. */
  invitationsOf(uid: string, limit: number): Promise<GroupInvitation[]>;
  removeInvitation(conversationId: string, uid: string): Promise<void>;
  setHistoryVisibility(conversationId: string, visibility: HistoryVisibility): Promise<void>;
  historyVisibility(conversationId: string): Promise<HistoryVisibility>;
  /** Members added later see messages with seq > afterSeq only (nothing recorded: all of it). */
  recordJoins(conversationId: string, uids: string[], afterSeq: number): Promise<void>;
  historyFloor(conversationId: string, uid: string): Promise<number>;
}

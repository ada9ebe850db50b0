import type { ChosenPresenceStatus } from "../../protocol";

/** What a user chose (merged into `users/{uid}.presence`: absent fields stay as they were). */
export interface ChosenFields {
  status?: ChosenPresenceStatus;
  customStatus?: string | null;
}

/** The presence fields of `users/{uid}` (docs/DATA-MODEL.md); times in ms. */
export interface UserRecords {
  loggedIn(uid: string, at: number): Promise<void>;
  wasActive(uid: string, at: number): Promise<void>;
  wentOffline(uid: string, lastSeen: number): Promise<void>;
  choseStatus(uid: string, presence: ChosenFields): Promise<void>;
  /** lastSeen of users that have one. */
  lastSeenOf(uids: string[]): Promise<Map<string, number>>;
}

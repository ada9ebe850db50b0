import type { NotificationItem, NotificationKind } from "../../protocol";

/**
 * The notification center's store: one record per notification of one user (mention, added to a group,
 * missed call, emergency broadcast), listed unread first then read, newest first within each, paged by an
 * opaque cursor; records expire at `expireAt` (a Firestore TTL policy deletes them; see docs/DATA-MODEL.md).
 * Ids are chosen by the caller and deterministic per cause (a mention of message m for user u is always the
 * same id), so adding one twice (a replay, a retry) creates it once.
 */
export interface NewNotification {
  id: string;
  uid: string;
  kind: NotificationKind;
  title: string;
  body: string;
  data: Record<string, string>;
  createdAt: number;
}

export interface NotificationPage {
  notifications: NotificationItem[];
  /** Pass as `before` for the next page; null when this was the last one. */
  nextBefore: string | null;
}

export interface NotificationStore {
  /** Stores the notifications not stored yet; answers those it created (the others existed). */
  add(notifications: NewNotification[], expireAt: number): Promise<NotificationItem[]>;
  /** Unread first, then read; newest first within each. `before`: a `nextBefore` of the previous page. */
  list(uid: string, limit: number, before?: string): Promise<NotificationPage>;
  unreadCount(uid: string): Promise<number>;
  /** false when `uid` has no notification `id`. Marking a read one again changes nothing. */
  markRead(uid: string, id: string, now: number): Promise<boolean>;
  /** false when `uid` has no notification `id`. */
  clear(uid: string, id: string): Promise<boolean>;
  /** Deletes every notification of `uid`; answers how many. */
  clearAll(uid: string): Promise<number>;
}

/**
 * The order of a notification in its list: its creation time in µs-like units with a per-process counter,
 * so two notifications of one millisecond still page apart. Stored as `order`.
 */
let tie = 0;
export function orderOf(createdAt: number): number {
  tie = (tie + 1) % 1000;
  return createdAt * 1000 + tie;
}

/** The paging cursor: which half of the list (unread / read) and the `order` to continue below. */
export interface Cursor {
  read: boolean;
  order: number;
}

export function encodeCursor(cursor: Cursor): string {
  return `${cursor.read ? "r" : "u"}${cursor.order}`;
}

/** undefined for a cursor this store never gave (the handler refuses it with INVALID_ARGUMENT). */
export function decodeCursor(before: string): Cursor | undefined {
  const match = /^([ur])(\d{1,17})$/.exec(before);
  return match ? { read: match[1] === "r", order: Number(match[2]) } : undefined;
}

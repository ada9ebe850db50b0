import type { NotificationItem } from "../../protocol";
import { Cursor, decodeCursor, encodeCursor, NewNotification, NotificationPage, NotificationStore, orderOf } from "./notification-store";

type Stored = NotificationItem & { uid: string; order: number; expireAt: number };

/** Notifications of one process (single-host runs, no Firestore); same order and paging as Firestore. */
export class MemoryNotificationStore implements NotificationStore {
  private readonly byId = new Map<string, Stored>();

  async add(notifications: NewNotification[], expireAt: number): Promise<NotificationItem[]> {
    const created: NotificationItem[] = [];
    for (const n of notifications) {
      if (this.byId.has(n.id)) continue;
      const stored: Stored = { ...n, read: false, readAt: null, order: orderOf(n.createdAt), expireAt };
      this.byId.set(n.id, stored);
      created.push(itemOf(stored));
    }
    return created;
  }

  async list(uid: string, limit: number, before?: string): Promise<NotificationPage> {
    const cursor = before ? decodeCursor(before) : undefined;
    const mine = [...this.byId.values()].filter((n) => n.uid === uid).sort((a, b) => Number(a.read) - Number(b.read) || b.order - a.order);
    const start = cursor ? mine.findIndex((n) => after(n, cursor)) : 0;
    const page = start < 0 ? [] : mine.slice(start, start + limit);
    const last = page[page.length - 1];
    const more = start >= 0 && start + limit < mine.length;
    return { notifications: page.map(itemOf), nextBefore: more && last ? encodeCursor({ read: last.read, order: last.order }) : null };
  }

  async unreadCount(uid: string): Promise<number> {
    return [...this.byId.values()].filter((n) => n.uid === uid && !n.read).length;
  }

  async markRead(uid: string, id: string, now: number): Promise<boolean> {
    const n = this.byId.get(id);
    if (!n || n.uid !== uid) return false;
    if (!n.read) Object.assign(n, { read: true, readAt: now });
    return true;
  }

  async clear(uid: string, id: string): Promise<boolean> {
    const n = this.byId.get(id);
    if (!n || n.uid !== uid) return false;
    this.byId.delete(id);
    return true;
  }

  async clearAll(uid: string): Promise<number> {
    let cleared = 0;
    for (const [id, n] of this.byId) if (n.uid === uid && this.byId.delete(id)) cleared++;
    return cleared;
  }
}

/** Whether `n` comes after the cursor in the unread-then-read, newest-first order. */
function after(n: Stored, cursor: Cursor): boolean {
  if (n.read !== cursor.read) return n.read && !cursor.read;
  return n.order < cursor.order;
}

function itemOf(n: Stored): NotificationItem {
  return { id: n.id, kind: n.kind, title: n.title, body: n.body, data: { ...n.data }, createdAt: n.createdAt, read: n.read, readAt: n.readAt };
}

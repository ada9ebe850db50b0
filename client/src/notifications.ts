import type { NotificationItem, NotificationsChangedPayload } from "./generated/protocol.js";

export interface NotificationsPage {
  notifications: NotificationItem[];
  unreadCount: number;
  nextBefore: string | null;
  hasMore: boolean;
}

/**
 * The notification center as this device knows it (issue 15): the entries it listed or received, their
 * read state, and the user's unread count — kept in step with the user's other devices through
 * `notifications_changed`, and with this device's own calls through their acks.
 */
export class NotificationCenter {
  private readonly items = new Map<string, NotificationItem>();
  private unread?: number;

  constructor(private readonly changed: (notifications: NotificationItem[], unreadCount: number | undefined) => void) {}

  /** Unread first, then read; newest first within each (the order of get_notifications). */
  get list(): NotificationItem[] {
    return [...this.items.values()].sort((a, b) => Number(a.read) - Number(b.read) || b.createdAt - a.createdAt).map((n) => ({ ...n, data: { ...n.data } }));
  }

  /** undefined until the gateway told it (auth_success, a page, an ack). */
  get unreadCount(): number | undefined {
    return this.unread;
  }

  admitted(unreadNotifications: number | undefined): void {
    if (unreadNotifications === undefined) return;
    this.unread = unreadNotifications;
    this.announce();
  }

  page(page: NotificationsPage): void {
    for (const n of page.notifications) this.items.set(n.id, n);
    this.unread = page.unreadCount;
    this.announce();
  }

  /** notification_new: every device of the user gets it. */
  added(item: NotificationItem): boolean {
    const known = this.items.has(item.id);
    this.items.set(item.id, item);
    if (!known && !item.read) this.unread = (this.unread ?? 0) + 1;
    this.announce();
    return !known;
  }

  /** A read or clear, from another device (notifications_changed) or this one (the ack). */
  apply(change: NotificationsChangedPayload, at = Date.now()): void {
    if (change.change === "cleared_all") this.items.clear();
    else if (change.change === "cleared" && change.id) this.items.delete(change.id);
    else if (change.change === "read" && change.id) {
      const item = this.items.get(change.id);
      if (item && !item.read) this.items.set(change.id, { ...item, read: true, readAt: at });
    }
    this.unread = change.unreadCount;
    this.announce();
  }

  private announce(): void {
    this.changed(this.list, this.unread);
  }
}

import { type DocumentSnapshot, type Firestore, Timestamp } from "firebase-admin/firestore";
import type { NotificationItem, NotificationKind } from "../../protocol";
import { decodeCursor, encodeCursor, NewNotification, NotificationPage, NotificationStore, orderOf } from "./notification-store";

export const NOTIFICATIONS = "notifications";
const BATCH = 500;
const CREATE_CONCURRENCY = 100;
const ALREADY_EXISTS = 6;

/**
 * `notifications/{id}` { uid, kind, title, body, data, createdAt, order, read, readAt, expireAt }: a top-level
 * collection with an owner field (the Node emulator has no collection-group queries), listed with equality
 * filters and a range on `order` (the Node emulator ignores cursors). `expireAt` (a Timestamp) is the field of
 * the TTL policy. Index: uid ASC, read ASC, order DESC (firestore.indexes.json).
 */
export class FirestoreNotificationStore implements NotificationStore {
  constructor(private readonly db: Firestore) {}

  private get collection() {
    return this.db.collection(NOTIFICATIONS);
  }

  async add(notifications: NewNotification[], expireAt: number): Promise<NotificationItem[]> {
    const created: NotificationItem[] = [];
    for (let i = 0; i < notifications.length; i += CREATE_CONCURRENCY) {
      const chunk = notifications.slice(i, i + CREATE_CONCURRENCY);
      const results = await Promise.all(chunk.map((n) => this.createOne(n, expireAt)));
      for (const item of results) if (item) created.push(item);
    }
    return created;
  }

  /** `create` fails with ALREADY_EXISTS for an id stored before: that notification exists, nothing to do. */
  private async createOne(n: NewNotification, expireAt: number): Promise<NotificationItem | undefined> {
    const doc = { ...n, order: orderOf(n.createdAt), read: false, readAt: 0, expireAt: Timestamp.fromMillis(expireAt) };
    try {
      await this.collection.doc(n.id).create(doc);
    } catch (error) {
      if ((error as { code?: number }).code === ALREADY_EXISTS) return undefined;
      throw error;
    }
    return { id: n.id, kind: n.kind, title: n.title, body: n.body, data: n.data, createdAt: n.createdAt, read: false, readAt: null };
  }

  async list(uid: string, limit: number, before?: string): Promise<NotificationPage> {
    const cursor = before ? decodeCursor(before) : undefined;
    const page: DocumentSnapshot[] = [];
    if (!cursor || !cursor.read) page.push(...(await this.half(uid, false, limit + 1, cursor?.order)));
    if (page.length <= limit) page.push(...(await this.half(uid, true, limit + 1 - page.length, cursor?.read ? cursor.order : undefined)));
    const shown = page.slice(0, limit);
    const last = shown[shown.length - 1];
    const nextBefore = page.length > limit && last ? encodeCursor({ read: Boolean(last.get("read")), order: Number(last.get("order")) }) : null;
    return { notifications: shown.map(itemOf), nextBefore };
  }

  private async half(uid: string, read: boolean, limit: number, below?: number): Promise<DocumentSnapshot[]> {
    let query = this.collection.where("uid", "==", uid).where("read", "==", read);
    if (below !== undefined) query = query.where("order", "<", below);
    return (await query.orderBy("order", "desc").limit(limit).get()).docs;
  }

  async unreadCount(uid: string): Promise<number> {
    const snapshot = await this.collection.where("uid", "==", uid).where("read", "==", false).count().get();
    return snapshot.data().count;
  }

  async markRead(uid: string, id: string, now: number): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const ref = this.collection.doc(id);
      const doc = await tx.get(ref);
      if (!doc.exists || doc.get("uid") !== uid) return false;
      if (!doc.get("read")) tx.update(ref, { read: true, readAt: now });
      return true;
    });
  }

  async clear(uid: string, id: string): Promise<boolean> {
    const ref = this.collection.doc(id);
    const doc = await ref.get();
    if (!doc.exists || doc.get("uid") !== uid) return false;
    await ref.delete();
    return true;
  }

  async clearAll(uid: string): Promise<number> {
    let cleared = 0;
    for (;;) {
      const docs = (await this.collection.where("uid", "==", uid).limit(BATCH).get()).docs;
      if (docs.length === 0) return cleared;
      const batch = this.db.batch();
      for (const doc of docs) batch.delete(doc.ref);
      await batch.commit();
      cleared += docs.length;
    }
  }
}

function itemOf(doc: DocumentSnapshot): NotificationItem {
  const readAt = Number(doc.get("readAt") ?? 0);
  return {
    id: doc.id,
    kind: doc.get("kind") as NotificationKind,
    title: String(doc.get("title")),
    body: String(doc.get("body")),
    data: (doc.get("data") ?? {}) as Record<string, string>,
    createdAt: Number(doc.get("createdAt")),
    read: Boolean(doc.get("read")),
    readAt: readAt || null,
  };
}

import { FieldValue, Firestore, Timestamp, WriteBatch } from "firebase-admin/firestore";
import { COUNT_PREFIX, countsOf, reactionKey, REPLY_TO_ID, toDoc, toMessage, VALUE_PREFIX } from "./message-doc";
import { ALREADY_EXISTS, FIRESTORE_MAX_BATCH_WRITES, GroupCommitOptions, GroupCommitter, MAX_COMMIT_BYTES } from "./group-commit";
import type { ChatMessage, ReceiptState, ReplyRef } from "../../protocol";
import {
  isEventType,
  Conversation,
  EventOptions,
  mineAfter,
  mineIn,
  publicCopy,
  ReactionChange,
  ReactionOutcome,
  HistoryQuery,
  MessageStore,
  orderQueue,
  QueueEntry,
  queueEntryFor,
  ReceiptField,
  StoredMessage,
} from "./message-store";

const MAX_BATCH = FIRESTORE_MAX_BATCH_WRITES;
/** gRPC status of a delete whose `exists` precondition failed. */
const NOT_FOUND = 5;
/** Rough cost of one write besides its content (field names, ids, timestamps), for the byte bound of a commit. */
const WRITE_OVERHEAD_BYTES = 512;

/** Group commit off: every message commits alone (the store's behaviour before group commit). */
export const NO_GROUP_COMMIT: GroupCommitOptions = { windowMs: 0, maxMessages: 1, maxWrites: MAX_BATCH };

/**
 * The message store on Firestore (docs/DATA-MODEL.md). Written so that it runs unchanged on the
 * official emulator and on the Node emulator we test with: no query cursors (range filters on `seq`),
 * no collection-group queries (the queue is a top-level collection with an owner field), batches ≤ 500.
 */
export class FirestoreMessageStore implements MessageStore {
  readonly kind = "firestore";
  private readonly committer: GroupCommitter;

  constructor(
    private readonly db: Firestore,
    private readonly queueRetentionMs: number,
    groupCommit: GroupCommitOptions = NO_GROUP_COMMIT,
    /** Test seam: how a batch of appends is committed (fault injection); the real commit by default. */
    commitBatch?: (batch: WriteBatch) => Promise<unknown>,
  ) {
    this.committer = new GroupCommitter(db, groupCommit, commitBatch);
  }

  /** Group-commit counters (commits, messages, duplicates, failed commits). */
  groupCommitFigures() {
    return this.committer.figures();
  }

  private conversationRef(id: string) {
    return this.db.collection("conversations").doc(id);
  }

  private messagesOf(conversationId: string) {
    return this.conversationRef(conversationId).collection("messages");
  }

  private queueRef(recipientId: string, messageId: string) {
    return this.db.collection("offline_queue").doc(`${recipientId}_${messageId}`);
  }

  async getConversation(id: string) {
    const snapshot = await this.conversationRef(id).get();
    return snapshot.exists ? toConversation(snapshot.data()!) : undefined;
  }

  async createConversation(conversation: Conversation) {
    const ref = this.conversationRef(conversation.id);
    try {
      await ref.create({ ...conversation, updatedAt: conversation.createdAt });
      return conversation;
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      return toConversation((await ref.get()).data()!);
    }
  }

  async updateMembers(id: string, change: { add: string[]; remove: string[] }, now: number) {
    const ref = this.conversationRef(id);
    return this.db.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) throw new Error(`no conversation ${id}`);
      const current = toConversation(snapshot.data()!);
      const members = [...new Set([...current.members, ...change.add])].filter((m) => !change.remove.includes(m));
      const admins = current.admins.filter((a) => !change.remove.includes(a));
      tx.update(ref, { members, admins, updatedAt: now });
      return { ...current, members, admins };
    });
  }

  async conversationsOf(uid: string) {
    const snapshot = await this.db.collection("conversations").where("members", "array-contains", uid).get();
    return snapshot.docs.map((d) => toConversation(d.data()));
  }

  async highestSeq(conversationId: string) {
    const snapshot = await this.messagesOf(conversationId).orderBy("seq", "desc").limit(1).get();
    return snapshot.empty ? 0 : Number(snapshot.docs[0].get("seq"));
  }

  /**
   * The message doc (and its moderation doc and queue entries, when they fit) goes into the group commit
   * shared with concurrent appends; this resolves once that commit succeeded. Queue entries of a large
   * group that do not fit one commit follow in parallel batches after the message is stored.
   */
  async appendMessage(message: StoredMessage, options: { queueFor: string[]; realSenderId?: string }) {
    const ref = this.messagesOf(message.conversationId).doc(message.id);
    const entries = options.queueFor.map((r) => queueEntryFor(r, message));
    const messageBytes = approximateBytes(message);
    const moderation = options.realSenderId
      ? { conversationId: message.conversationId, senderId: options.realSenderId, createdAt: message.createdAt }
      : undefined;
    const ownWrites = 1 + (moderation ? 1 : 0);
    const together = ownWrites + entries.length <= MAX_BATCH && (1 + entries.length) * messageBytes <= MAX_COMMIT_BYTES;
    const result = await this.committer.append({
      message,
      ref,
      writes: ownWrites + (together ? entries.length : 0),
      bytes: (1 + (together ? entries.length : 0)) * messageBytes,
      write: (batch) => {
        batch.create(ref, message.replyTo ? { ...message, [REPLY_TO_ID]: message.replyTo.id } : message);
        if (moderation) batch.set(this.db.collection("message_moderation").doc(message.id), moderation);
        if (together) for (const entry of entries) this.writeQueueEntry(batch, entry);
      },
    });
    if (!together && !result.duplicate) await this.enqueue(entries);
    return result;
  }

  async appendEvent(event: StoredMessage, options: EventOptions) {
    const ref = this.messagesOf(event.conversationId).doc(event.id);
    const targetRef = this.messagesOf(options.target.conversationId).doc(options.target.id);
    const entries = options.queueFor.map((r) => queueEntryFor(r, event));
    const eventModeration = options.realSenderId
      ? { conversationId: event.conversationId, senderId: options.realSenderId, createdAt: event.createdAt }
      : undefined;
    const ownWrites = 2 + (eventModeration ? 1 : 0) + (options.moderation ? 1 : 0);
    const eventBytes = approximateBytes(event);
    const together = ownWrites + entries.length <= MAX_BATCH && (2 + entries.length) * eventBytes + approximateBytes(options.target) <= MAX_COMMIT_BYTES;
    const result = await this.committer.append({
      message: event,
      ref,
      writes: ownWrites + (together ? entries.length : 0),
      bytes: (1 + (together ? entries.length : 0)) * eventBytes + approximateBytes(options.target),
      write: (batch) => {
        batch.create(ref, event);
        batch.set(targetRef, toDoc(options.target));
        if (eventModeration) batch.set(this.db.collection("message_moderation").doc(event.id), eventModeration);
        if (options.moderation) batch.set(this.db.collection("message_moderation").doc(options.target.id), options.moderation, { merge: true });
        if (together) for (const entry of entries) this.writeQueueEntry(batch, entry);
      },
    });
    if (!together && !result.duplicate) await this.enqueue(entries);
    await this.replaceQueuedCopies(options.target);
    await this.refreshReplies(options.target.conversationId, options.replyRef);
    return result;
  }

  /** Replies to a changed message show it as it is now (no preview of deleted or edited-away content). */
  private async refreshReplies(conversationId: string, replyRef: ReplyRef): Promise<void> {
    const snapshot = await this.messagesOf(conversationId).where(REPLY_TO_ID, "==", replyRef.id).get();
    for (let i = 0; i < snapshot.docs.length; i += MAX_BATCH) {
      const batch = this.db.batch();
      for (const doc of snapshot.docs.slice(i, i + MAX_BATCH)) batch.update(doc.ref, { replyTo: replyRef });
      await batch.commit();
    }
    await Promise.all(snapshot.docs.map((d) => this.replaceQueuedCopies({ ...toMessage(d.data()), replyTo: replyRef })));
  }

  /** Every queue entry (delivered ones live on for the retention period) carries the message as it is now. */
  private async replaceQueuedCopies(message: StoredMessage): Promise<void> {
    await this.rewriteQueuedCopies(message.conversationId, message.id, false, (copy) => publicCopy(message, mineIn(copy)));
  }

  /** Rewrites the queue copies of a message (only the undelivered ones when `pendingOnly`), in batches of 500. */
  private async rewriteQueuedCopies(conversationId: string, messageId: string, pendingOnly: boolean, rewrite: (copy: ChatMessage, recipientId: string) => ChatMessage) {
    const snapshot = await this.db.collection("offline_queue").where("messageId", "==", messageId).get();
    const docs = snapshot.docs.filter((d) => d.get("conversationId") === conversationId && !(pendingOnly && d.get("delivered") === true));
    for (let i = 0; i < docs.length; i += MAX_BATCH) {
      const batch = this.db.batch();
      for (const doc of docs.slice(i, i + MAX_BATCH)) batch.update(doc.ref, { message: rewrite(doc.get("message") as ChatMessage, doc.get("recipientId") as string) });
      await batch.commit();
    }
  }

  private reactionRef(conversationId: string, messageId: string, uid: string, emoji: string) {
    return this.db.collection("message_reactions").doc(`${conversationId}_${messageId}_${uid}_${reactionKey(emoji)}`);
  }

  /**
   * Atomic without a transaction (the Node emulator does not isolate transactions; production would):
   * the user's `message_reactions` record is created (add) or deleted with an exists precondition
   * (remove) in the same batch as a `FieldValue.increment` of the message's count for that value, so a
   * second add of the same value fails as a whole and concurrent reactions on any instance all count.
   */
  async react(change: ReactionChange): Promise<ReactionOutcome> {
    const messageRef = this.messagesOf(change.conversationId).doc(change.messageId);
    const before = await messageRef.get();
    if (!before.exists || isEventType(before.get("type"))) return { outcome: "no_message" };
    if (before.get("deleted") === true) return { outcome: "deleted" };
    const counts = countsOf(before.data()!);
    if (change.add && !(change.emoji in counts) && Object.keys(counts).length >= change.maxDistinct) return { outcome: "too_many" };
    const key = reactionKey(change.emoji);
    const batch = this.db.batch();
    const mineRef = this.reactionRef(change.conversationId, change.messageId, change.userId, change.emoji);
    if (change.add) batch.create(mineRef, { conversationId: change.conversationId, messageId: change.messageId, userId: change.userId, emoji: change.emoji, createdAt: change.now });
    else batch.delete(mineRef, { exists: true });
    batch.update(messageRef, { [`${COUNT_PREFIX}${key}`]: FieldValue.increment(change.add ? 1 : -1), [`${VALUE_PREFIX}${key}`]: change.emoji });
    try {
      await batch.commit();
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code !== ALREADY_EXISTS && code !== NOT_FOUND) throw error;
      return { outcome: "ok", count: counts[change.emoji] ?? 0, changed: false };
    }
    const now = countsOf((await messageRef.get()).data() ?? {});
    await this.rewriteQueuedCopies(change.conversationId, change.messageId, true, (copy, recipientId) =>
      publicCopy({ ...copy, reactionCounts: now }, mineAfter(copy, recipientId, change)),
    );
    return { outcome: "ok", count: now[change.emoji] ?? 0, changed: true };
  }

  async reactionsOf(conversationId: string, uid: string, candidates: Map<string, string[]>) {
    const refs = [...candidates].flatMap(([messageId, emojis]) => emojis.map((emoji) => this.reactionRef(conversationId, messageId, uid, emoji)));
    const found = new Map<string, string[]>();
    for (let i = 0; i < refs.length; i += 100) {
      const snapshots = await this.db.getAll(...refs.slice(i, i + 100));
      for (const snapshot of snapshots) {
        if (!snapshot.exists) continue;
        const messageId = snapshot.get("messageId") as string;
        found.set(messageId, [...(found.get(messageId) ?? []), snapshot.get("emoji") as string]);
      }
    }
    return found;
  }

  async realSenderOf(messageId: string) {
    const snapshot = await this.db.collection("message_moderation").doc(messageId).get();
    return snapshot.exists ? ((snapshot.get("senderId") as string | undefined) ?? undefined) : undefined;
  }

  async getMessage(conversationId: string, messageId: string) {
    const snapshot = await this.messagesOf(conversationId).doc(messageId).get();
    return snapshot.exists ? toMessage(snapshot.data()!) : undefined;
  }

  async history(conversationId: string, query: HistoryQuery) {
    const messages = this.messagesOf(conversationId);
    if (query.afterSeq !== undefined) {
      const snapshot = await messages.where("seq", ">", query.afterSeq).orderBy("seq", "asc").limit(query.limit).get();
      return snapshot.docs.map((d) => toMessage(d.data()));
    }
    const ordered = query.beforeSeq !== undefined ? messages.where("seq", "<", query.beforeSeq) : messages;
    const snapshot = await ordered.orderBy("seq", "desc").limit(query.limit).get();
    return snapshot.docs.map((d) => toMessage(d.data())).reverse();
  }

  async enqueue(entries: QueueEntry[]) {
    if (entries.length === 0) return;
    const perCommit = Math.max(1, Math.min(MAX_BATCH, Math.floor(MAX_COMMIT_BYTES / approximateBytes(entries[0].message))));
    const commits: Promise<unknown>[] = [];
    for (let i = 0; i < entries.length; i += perCommit) {
      const batch = this.db.batch();
      for (const entry of entries.slice(i, i + perCommit)) this.writeQueueEntry(batch, entry);
      commits.push(batch.commit());
    }
    await Promise.all(commits);
  }

  private writeQueueEntry(batch: WriteBatch, entry: QueueEntry): void {
    batch.set(this.queueRef(entry.recipientId, entry.messageId), {
      ...entry,
      delivered: false,
      deliveredAt: null,
      expireAt: Timestamp.fromMillis(entry.createdAt + this.queueRetentionMs),
    });
  }

  async pendingFor(recipientId: string, limit: number) {
    const snapshot = await this.db
      .collection("offline_queue")
      .where("recipientId", "==", recipientId)
      .where("delivered", "==", false)
      .orderBy("createdAt", "asc")
      .limit(limit)
      .get();
    return orderQueue(snapshot.docs.map((d) => toQueueEntry(d.data())));
  }

  async markDelivered(recipientId: string, conversationId: string, upToSeq: number, now: number) {
    const snapshot = await this.db
      .collection("offline_queue")
      .where("recipientId", "==", recipientId)
      .where("conversationId", "==", conversationId)
      .where("delivered", "==", false)
      .get();
    const due = snapshot.docs.filter((d) => Number(d.get("seq")) <= upToSeq);
    for (let i = 0; i < due.length; i += MAX_BATCH) {
      const batch = this.db.batch();
      for (const doc of due.slice(i, i + MAX_BATCH)) {
        // The delivered entry lives on for the retention period (cleanupOfflineMessages / the TTL policy).
        batch.update(doc.ref, { delivered: true, deliveredAt: now, expireAt: Timestamp.fromMillis(now + this.queueRetentionMs) });
      }
      await batch.commit();
    }
    return due.length;
  }

  async queueDepth() {
    const snapshot = await this.db.collection("offline_queue").where("delivered", "==", false).count().get();
    return snapshot.data().count;
  }

  async advanceReceipt(conversationId: string, uid: string, field: ReceiptField, seq: number, now: number) {
    const ref = this.conversationRef(conversationId).collection("receipts").doc(uid);
    return this.db.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      const current = { deliveredSeq: 0, readSeq: 0, ...(snapshot.data() ?? {}) } as { deliveredSeq: number; readSeq: number };
      const before = current[field];
      if (seq <= before) return { before, after: before };
      const update: Record<string, unknown> = { userId: uid, [field]: seq, updatedAt: now };
      if (field === "readSeq" && current.deliveredSeq < seq) update.deliveredSeq = seq;
      tx.set(ref, update, { merge: true });
      return { before, after: seq };
    });
  }

  async receipts(conversationId: string) {
    const snapshot = await this.conversationRef(conversationId).collection("receipts").get();
    return snapshot.docs.map(
      (d): ReceiptState => ({ userId: d.id, deliveredSeq: Number(d.get("deliveredSeq") ?? 0), readSeq: Number(d.get("readSeq") ?? 0) }),
    );
  }

  async sendersBetween(conversationId: string, before: number, upTo: number, limit: number) {
    const snapshot = await this.messagesOf(conversationId)
      .where("seq", ">", before)
      .where("seq", "<=", upTo)
      .orderBy("seq", "asc")
      .limit(limit)
      .get();
    return snapshot.docs.map((d) => ({ senderId: (d.get("senderId") as string | null) ?? null, messageId: d.id }));
  }

  async touchConversations(updates: Array<{ conversationId: string; at: number }>) {
    for (let i = 0; i < updates.length; i += MAX_BATCH) {
      const batch = this.db.batch();
      for (const { conversationId, at } of updates.slice(i, i + MAX_BATCH)) batch.update(this.conversationRef(conversationId), { lastActivityAt: at });
      await batch.commit();
    }
  }

  async readSeqOf(conversationId: string, uid: string) {
    const snapshot = await this.conversationRef(conversationId).collection("receipts").doc(uid).get();
    return Number(snapshot.get("readSeq") ?? 0);
  }

  /** Two `count()` aggregations: every message above the mark, minus the caller's own (index: senderId + seq). */
  async unreadCount(conversationId: string, uid: string, afterSeq: number) {
    const above = this.messagesOf(conversationId).where("seq", ">", afterSeq);
    const [all, own] = await Promise.all([above.count().get(), above.where("senderId", "==", uid).count().get()]);
    return Math.max(0, all.data().count - own.data().count);
  }

  async ping() {
    try {
      await this.db.collection("conversations").limit(1).get();
      return true;
    } catch {
      return false;
    }
  }
}

function toConversation(data: FirebaseFirestore.DocumentData): Conversation {
  return {
    id: data.id,
    type: data.type,
    name: data.name ?? null,
    members: data.members ?? [],
    admins: data.admins ?? [],
    announcement: data.announcement ?? false,
    postingRoles: data.postingRoles ?? [],
    createdBy: data.createdBy,
    createdAt: Number(data.createdAt),
    ...(typeof data.lastActivityAt === "number" ? { lastActivityAt: data.lastActivityAt } : {}),
  };
}

function toQueueEntry(data: FirebaseFirestore.DocumentData): QueueEntry {
  return {
    recipientId: data.recipientId,
    conversationId: data.conversationId,
    messageId: data.messageId,
    seq: Number(data.seq),
    message: data.message,
    createdAt: Number(data.createdAt),
    ...(typeof data.lastActivityAt === "number" ? { lastActivityAt: data.lastActivityAt } : {}),
  };
}


/** About how many bytes a message takes in a commit (content and metadata, UTF-8 at worst, plus fixed overhead). */
function approximateBytes(message: StoredMessage): number {
  const metadata = message.metadata && Object.keys(message.metadata).length > 0 ? JSON.stringify(message.metadata).length : 0;
  return WRITE_OVERHEAD_BYTES + message.content.length * 3 + metadata;
}

export { toMessage } from "./message-doc";

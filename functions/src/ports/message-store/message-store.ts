import type { ChatMessage, ConversationSummary, ReceiptState, ReplyRef } from "../../protocol";

export type Conversation = ConversationSummary;

/**
 * A message as stored and as recipients see it. An anonymous message has `senderId: null`; its real
 * sender goes to the server-only moderation record, never into the message document.
 */
export type StoredMessage = ChatMessage;

export interface QueueEntry {
  recipientId: string;
  conversationId: string;
  messageId: string;
  seq: number;
  message: ChatMessage;
  createdAt: number;
}

/** How a conversation event changes its target (MessageStore.appendEvent). */
export interface EventOptions {
  queueFor: string[];
  realSenderId?: string;
  /** The target's new document. */
  target: StoredMessage;
  /** Merged into the target's moderation record (anonymous targets). */
  moderation?: Record<string, unknown>;
  /** What replies to the target show of it from now on (their `replyTo`, stored and queued copies). */
  replyRef: ReplyRef;
}

export type ReceiptField = "deliveredSeq" | "readSeq";

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

/**
 * The message store port: conversations, messages, the offline queue and receipts.
 * Adapters: Firestore (every real deployment) and memory (single-process runs, benchmarks).
 * Every method either does what it says or throws; nothing is dropped silently.
 */
export interface MessageStore {
  readonly kind: "firestore" | "memory";

  getConversation(conversationId: string): Promise<Conversation | undefined>;
  /** Creates the conversation unless one with this id exists; returns the stored one either way. */
  createConversation(conversation: Conversation): Promise<Conversation>;
  /** Atomically adds and removes members (and admins); returns the updated conversation. */
  updateMembers(conversationId: string, change: { add: string[]; remove: string[] }, now: number): Promise<Conversation>;
  conversationsOf(uid: string): Promise<Conversation[]>;

  /** Highest stored sequence number of a conversation, 0 when it has no message. */
  highestSeq(conversationId: string): Promise<number>;
  /**
   * Stores a message (and, atomically when they fit in one commit, the offline-queue entries for its
   * recipients). If a message with the same id exists, stores nothing and returns the existing one.
   */
  appendMessage(
    message: StoredMessage,
    options: { queueFor: string[]; realSenderId?: string },
  ): Promise<{ message: StoredMessage; duplicate: boolean }>;
  /**
   * Issue 14: stores a conversation event (`edit` / `delete`) like appendMessage, and in the same commit
   * replaces its target's document with `target` (edited content, or the tombstone) and merges
   * `moderation` into the target's moderation record. Afterwards every offline-queue copy of the target
   * (delivered or not) is replaced too, so no queue keeps content that was edited away or deleted.
   */
  appendEvent(
    event: StoredMessage,
    options: EventOptions,
  ): Promise<{ message: StoredMessage; duplicate: boolean }>;
  /** The real sender of an anonymous message (its moderation record), or undefined. */
  realSenderOf(messageId: string): Promise<string | undefined>;
  /** One message of a conversation, or undefined (replies, reactions, edits). */
  getMessage(conversationId: string, messageId: string): Promise<StoredMessage | undefined>;
  /** Messages in seq order: the `limit` newest before `beforeSeq`, or the `limit` oldest after `afterSeq`. */
  history(conversationId: string, query: HistoryQuery): Promise<StoredMessage[]>;

  /** Queue entries for recipients (large groups: in parallel commits of at most 500). */
  enqueue(entries: QueueEntry[]): Promise<void>;
  /** Undelivered entries of a recipient, ordered by conversation and seq. */
  pendingFor(recipientId: string, limit: number): Promise<QueueEntry[]>;
  /** Marks a recipient's entries of a conversation up to `upToSeq` delivered; returns how many. */
  markDelivered(recipientId: string, conversationId: string, upToSeq: number, now: number): Promise<number>;
  /** Undelivered entries in the whole queue (status report). */
  queueDepth(): Promise<number>;

  /** Moves a member's receipt forward (never back); returns the value before and after. */
  advanceReceipt(conversationId: string, uid: string, field: ReceiptField, seq: number, now: number): Promise<{ before: number; after: number }>;
  receipts(conversationId: string): Promise<ReceiptState[]>;
  /** Messages with before < seq <= upTo, as (senderId, messageId) pairs, at most `limit` (anonymous ones have no sender). */
  sendersBetween(conversationId: string, before: number, upTo: number, limit: number): Promise<Array<{ senderId: string | null; messageId: string }>>;

  /** Firestore reachability for the status report. */
  ping(): Promise<boolean>;
}

export const directConversationId = (a: string, b: string) => `dm_${[a, b].sort().join("_")}`;

/** Queue entries in delivery order: each conversation by seq, conversations by their oldest entry. */
export function orderQueue(entries: QueueEntry[]): QueueEntry[] {
  const byConversation = new Map<string, QueueEntry[]>();
  for (const entry of entries) {
    const list = byConversation.get(entry.conversationId) ?? [];
    list.push(entry);
    byConversation.set(entry.conversationId, list);
  }
  const groups = [...byConversation.values()].map((list) => list.sort((a, b) => a.seq - b.seq));
  const oldest = (list: QueueEntry[]) => Math.min(...list.map((e) => e.createdAt));
  groups.sort((a, b) => oldest(a) - oldest(b) || (a[0].conversationId < b[0].conversationId ? -1 : 1));
  return groups.flat();
}

export function queueEntryFor(recipientId: string, message: StoredMessage): QueueEntry {
  return {
    recipientId,
    conversationId: message.conversationId,
    messageId: message.id,
    seq: message.seq,
    message,
    createdAt: message.createdAt,
  };
}

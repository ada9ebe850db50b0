import type { ChatMessage, ConversationSummary, ReactionSummary, ReceiptState, ReplyRef } from "../../protocol";

/** A conversation as stored: the summary plus `lastActivityAt` (issue 14: the list's order; maintained off the send path). */
export type Conversation = ConversationSummary & { lastActivityAt?: number };

/**
 * A message as stored and as recipients see it. An anonymous message has `senderId: null`; its real
 * sender goes to the server-only moderation record, never into the message document.
 */
export type StoredMessage = ChatMessage & {
  /** Storage only (issue 14): reaction counts by value; readers see `reactions` (publicCopy). */
  reactionCounts?: Record<string, number>;
};

/** A reaction change as the store answers it. */
export type ReactionOutcome =
  | { outcome: "ok"; count: number; changed: boolean }
  | { outcome: "no_message" }
  | { outcome: "deleted" }
  | { outcome: "too_many" };

export interface ReactionChange {
  conversationId: string;
  messageId: string;
  userId: string;
  emoji: string;
  add: boolean;
  /** Most distinct values on one message; adding a new one past it is refused (`too_many`). */
  maxDistinct: number;
  now: number;
}

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
  /**
   * Issue 14: adds or removes one user's reaction atomically (the user's reaction record and the message's
   * count change together or not at all), then refreshes the undelivered offline-queue copies of the message.
   */
  react(change: ReactionChange): Promise<ReactionOutcome>;
  /** Which of the given values (by message id: the values it has) `uid` reacted with; messages without any left out. */
  reactionsOf(conversationId: string, uid: string, candidates: Map<string, string[]>): Promise<Map<string, string[]>>;
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

  /** Issue 14: raises conversations' `lastActivityAt` (coalesced by the caller; never lowers it in memory, last write wins in Firestore). */
  touchConversations(updates: Array<{ conversationId: string; at: number }>): Promise<void>;
  /** A member's readSeq in a conversation (0 when it never read). */
  readSeqOf(conversationId: string, uid: string): Promise<number>;
  /** Messages (events included) with seq > afterSeq not sent by `uid` under its name. */
  unreadCount(conversationId: string, uid: string, afterSeq: number): Promise<number>;

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

/** Reactions as one reader sees them: counts, and whether the reader is among them; undefined when none. */
export function reactionView(counts: Record<string, number> | undefined, mine: readonly string[]): ReactionSummary[] | undefined {
  if (!counts) return undefined;
  const view = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([emoji, count]) => ({ emoji, count, me: mine.includes(emoji) }));
  return view.length > 0 ? view : undefined;
}

/** A stored message as `reader` sees it: storage-only fields out, its reactions in (when there are any). */
export function publicCopy(stored: StoredMessage, mine: readonly string[]): ChatMessage {
  if (stored.reactionCounts === undefined && stored.reactions === undefined) return stored;
  const { reactionCounts, reactions: _previous, ...message } = stored;
  const reactions = reactionView(reactionCounts, mine);
  return reactions ? { ...message, reactions } : message;
}

/** What a queued copy says the reader reacted with. */
export function mineIn(copy: ChatMessage | undefined): string[] {
  return (copy?.reactions ?? []).filter((r) => r.me).map((r) => r.emoji);
}

/** A reaction change applied to a message's counts and the user's values: the outcome and what to store. */
export function applyReaction(
  counts: Record<string, number>,
  emojis: string[],
  change: ReactionChange,
): { outcome: "too_many" } | { outcome: "ok"; changed: boolean; count: number; counts: Record<string, number>; emojis: string[] } {
  const has = emojis.includes(change.emoji);
  if (has === change.add) return { outcome: "ok", changed: false, count: counts[change.emoji] ?? 0, counts, emojis };
  if (change.add && !(change.emoji in counts) && Object.keys(counts).length >= change.maxDistinct) return { outcome: "too_many" };
  const count = Math.max(0, (counts[change.emoji] ?? 0) + (change.add ? 1 : -1));
  const next = { ...counts };
  if (count === 0) delete next[change.emoji];
  else next[change.emoji] = count;
  const nextEmojis = change.add ? [...emojis, change.emoji] : emojis.filter((e) => e !== change.emoji);
  return { outcome: "ok", changed: true, count, counts: next, emojis: nextEmojis };
}

/** A queued copy's own reactions after `change` (the recipient's own change flips its flag). */
export function mineAfter(copy: ChatMessage, recipientId: string, change: ReactionChange): string[] {
  const mine = mineIn(copy).filter((e) => e !== change.emoji);
  return recipientId === change.userId && change.add ? [...mine, change.emoji] : recipientId === change.userId ? mine : mineIn(copy);
}

/** `edit` / `delete` event messages take no reactions. */
export function isEventType(type: unknown): boolean {
  return type === "edit" || type === "delete";
}

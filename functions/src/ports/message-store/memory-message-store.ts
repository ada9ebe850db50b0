import type { ReceiptState } from "../../protocol";
import { applyReaction, isEventType, Conversation, EventOptions, HistoryQuery, mineAfter, mineIn, publicCopy, ReactionChange, ReactionOutcome, MessageStore, orderQueue, QueueEntry, queueEntryFor, ReceiptField, StoredMessage } from "./message-store";

interface MemoryQueueEntry extends QueueEntry {
  delivered: boolean;
}

/** The message store in this process's memory: single-process runs and benchmarks. Nothing survives a restart. */
export class MemoryMessageStore implements MessageStore {
  readonly kind = "memory";
  private readonly conversations = new Map<string, Conversation>();
  private readonly messages = new Map<string, StoredMessage[]>();
  private readonly messageIds = new Map<string, StoredMessage>();
  private readonly queue = new Map<string, MemoryQueueEntry>();
  private readonly queueByRecipient = new Map<string, Map<string, MemoryQueueEntry>>();
  private readonly conversationsByMember = new Map<string, Set<string>>();
  private indexMembers(conversation: Conversation): void {
    for (const uid of conversation.members) {
      const set = this.conversationsByMember.get(uid) ?? new Set<string>();
      set.add(conversation.id);
      this.conversationsByMember.set(uid, set);
    }
  }
  private readonly receiptDocs = new Map<string, Map<string, ReceiptState>>();

  async getConversation(id: string) {
    const found = this.conversations.get(id);
    return found && clone(found);
  }

  async createConversation(conversation: Conversation) {
    if (!this.conversations.has(conversation.id)) {
      this.conversations.set(conversation.id, clone(conversation));
      this.indexMembers(conversation);
    }
    return clone(this.conversations.get(conversation.id)!);
  }

  async updateMembers(id: string, change: { add: string[]; remove: string[] }) {
    const conversation = this.conversations.get(id);
    if (!conversation) throw new Error(`no conversation ${id}`);
    conversation.members = applyChange(conversation.members, change);
    conversation.admins = conversation.admins.filter((a) => !change.remove.includes(a));
    this.indexMembers(conversation);
    return clone(conversation);
  }

  async conversationsOf(uid: string) {
    const ids = [...(this.conversationsByMember.get(uid) ?? [])];
    return ids.map((id) => this.conversations.get(id)!).filter((c) => c && c.members.includes(uid)).map(clone);
  }

  async highestSeq(conversationId: string) {
    const list = this.messages.get(conversationId) ?? [];
    return list.reduce((max, m) => Math.max(max, m.seq), 0);
  }

  private readonly moderation = new Map<string, string>();

  async appendMessage(message: StoredMessage, options: { queueFor: string[]; realSenderId?: string }) {
    const existing = this.messageIds.get(message.id);
    if (existing) return { message: clone(existing), duplicate: true };
    const stored = clone(message);
    this.messageIds.set(message.id, stored);
    const list = this.messages.get(message.conversationId) ?? [];
    list.push(stored);
    this.messages.set(message.conversationId, list);
    if (options.realSenderId) this.moderation.set(message.id, options.realSenderId);
    await this.enqueue(options.queueFor.map((recipientId) => queueEntryFor(recipientId, stored)));
    return { message: clone(stored), duplicate: false };
  }

  async appendEvent(event: StoredMessage, options: EventOptions) {
    const result = await this.appendMessage(event, options);
    if (result.duplicate) return result;
    this.replace(options.target);
    if (options.moderation) this.moderationNotes.set(options.target.id, { ...(this.moderationNotes.get(options.target.id) ?? {}), ...clone(options.moderation) });
    const replies = (this.messages.get(options.target.conversationId) ?? []).filter((m) => m.replyTo?.id === options.replyRef.id);
    for (const reply of replies) this.replace({ ...reply, replyTo: clone(options.replyRef) });
    return result;
  }

  /** A message's document and every queue copy of it become `message`. */
  private replace(message: StoredMessage): void {
    const stored = clone(message);
    this.messageIds.set(stored.id, stored);
    const list = this.messages.get(stored.conversationId) ?? [];
    this.messages.set(stored.conversationId, list.map((m) => (m.id === stored.id ? stored : m)));
    for (const entry of this.queue.values()) {
      if (entry.messageId === stored.id && entry.conversationId === stored.conversationId) entry.message = publicCopy(clone(stored), mineIn(entry.message));
    }
  }

  /** Reaction values by `${messageId}|${uid}`. */
  private readonly reactionsByUser = new Map<string, string[]>();

  async react(change: ReactionChange): Promise<ReactionOutcome> {
    const message = this.messageIds.get(change.messageId);
    if (!message || message.conversationId !== change.conversationId || isEventType(message.type)) return { outcome: "no_message" };
    if (message.deleted) return { outcome: "deleted" };
    const key = `${change.messageId}|${change.userId}`;
    const next = applyReaction(message.reactionCounts ?? {}, this.reactionsByUser.get(key) ?? [], change);
    if (next.outcome !== "ok") return next;
    if (next.changed) {
      message.reactionCounts = next.counts;
      if (next.emojis.length === 0) this.reactionsByUser.delete(key);
      else this.reactionsByUser.set(key, next.emojis);
      for (const entry of this.queue.values()) {
        if (entry.messageId !== change.messageId || entry.delivered) continue;
        entry.message = publicCopy({ ...entry.message, reactionCounts: next.counts }, mineAfter(entry.message, entry.recipientId, change));
      }
    }
    return { outcome: "ok", count: next.count, changed: next.changed };
  }

  async reactionsOf(_conversationId: string, uid: string, candidates: Map<string, string[]>) {
    const found = new Map<string, string[]>();
    for (const id of candidates.keys()) {
      const mine = this.reactionsByUser.get(`${id}|${uid}`);
      if (mine) found.set(id, [...mine]);
    }
    return found;
  }

  /** What moderation keeps of edited or deleted anonymous messages (server-side only). */
  private readonly moderationNotes = new Map<string, Record<string, unknown>>();

  async realSenderOf(messageId: string) {
    return this.moderation.get(messageId);
  }

  async getMessage(conversationId: string, messageId: string) {
    const found = this.messageIds.get(messageId);
    return found && found.conversationId === conversationId ? clone(found) : undefined;
  }

  async history(conversationId: string, query: HistoryQuery) {
    const sorted = [...(this.messages.get(conversationId) ?? [])].sort((a, b) => a.seq - b.seq);
    if (query.afterSeq !== undefined) return sorted.filter((m) => m.seq > query.afterSeq!).slice(0, query.limit).map(clone);
    const before = query.beforeSeq ?? Number.POSITIVE_INFINITY;
    return sorted.filter((m) => m.seq < before).slice(-query.limit).map(clone);
  }

  async enqueue(entries: QueueEntry[]) {
    for (const entry of entries) {
      const key = `${entry.recipientId}_${entry.messageId}`;
      if (this.queue.has(key)) continue;
      const stored = { ...clone(entry), delivered: false };
      this.queue.set(key, stored);
      const mine = this.queueByRecipient.get(entry.recipientId) ?? new Map<string, MemoryQueueEntry>();
      mine.set(key, stored);
      this.queueByRecipient.set(entry.recipientId, mine);
    }
  }

  async pendingFor(recipientId: string, limit: number) {
    const pending = [...(this.queueByRecipient.get(recipientId)?.values() ?? [])].filter((e) => !e.delivered);
    return orderQueue(pending.map(({ delivered: _d, ...entry }) => clone(entry))).slice(0, limit);
  }

  async markDelivered(recipientId: string, conversationId: string, upToSeq: number) {
    let count = 0;
    for (const entry of this.queueByRecipient.get(recipientId)?.values() ?? []) {
      if (entry.recipientId === recipientId && entry.conversationId === conversationId && !entry.delivered && entry.seq <= upToSeq) {
        entry.delivered = true;
        count += 1;
      }
    }
    return count;
  }

  async queueDepth() {
    return [...this.queue.values()].filter((e) => !e.delivered).length;
  }

  async advanceReceipt(conversationId: string, uid: string, field: ReceiptField, seq: number) {
    const docs = this.receiptDocs.get(conversationId) ?? new Map<string, ReceiptState>();
    this.receiptDocs.set(conversationId, docs);
    const receipt = docs.get(uid) ?? { userId: uid, deliveredSeq: 0, readSeq: 0 };
    const before = receipt[field];
    receipt[field] = Math.max(before, seq);
    if (field === "readSeq") receipt.deliveredSeq = Math.max(receipt.deliveredSeq, receipt.readSeq);
    docs.set(uid, receipt);
    return { before, after: receipt[field] };
  }

  async receipts(conversationId: string) {
    return [...(this.receiptDocs.get(conversationId)?.values() ?? [])].map(clone);
  }

  async sendersBetween(conversationId: string, before: number, upTo: number, limit: number) {
    return (this.messages.get(conversationId) ?? [])
      .filter((m) => m.seq > before && m.seq <= upTo)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map((m) => ({ senderId: m.senderId, messageId: m.id }));
  }

  async touchConversations(updates: Array<{ conversationId: string; at: number }>) {
    for (const { conversationId, at } of updates) {
      const conversation = this.conversations.get(conversationId);
      if (conversation) conversation.lastActivityAt = Math.max(conversation.lastActivityAt ?? 0, at);
    }
  }

  async readSeqOf(conversationId: string, uid: string) {
    return this.receiptDocs.get(conversationId)?.get(uid)?.readSeq ?? 0;
  }

  async unreadCount(conversationId: string, uid: string, afterSeq: number) {
    return (this.messages.get(conversationId) ?? []).filter((m) => m.seq > afterSeq && m.senderId !== uid).length;
  }

  async ping() {
    return true;
  }
}

function applyChange(members: string[], change: { add: string[]; remove: string[] }): string[] {
  const next = new Set(members);
  for (const uid of change.add) next.add(uid);
  for (const uid of change.remove) next.delete(uid);
  return [...next];
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

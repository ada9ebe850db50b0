import type { ChatMessage, ReactionSummary, ReactionUpdatedPayload } from "./generated/protocol.js";

/** An `edit` event folded into the stored message it names (issue 14). */
export interface MessageEdit {
  conversationId: string;
  messageId: string;
  content: string;
  editedAt: number;
  /** Who edited (null: the anonymous sender itself). */
  by: string | null;
  /** The event message's id and seq. */
  eventId: string;
  seq: number;
  /** The stored message as it is now; undefined when this client does not keep it (older than it holds). */
  message?: ChatMessage;
}

/** A `delete` event folded into the stored message it names: a tombstone remains at its place. */
export interface MessageDeletion {
  conversationId: string;
  messageId: string;
  deletedAt: number;
  /** The sender, or the moderator who deleted it; null: the anonymous sender itself. */
  by: string | null;
  eventId: string;
  seq: number;
  message?: ChatMessage;
}

/** A message's reactions changed (a member's `reaction_updated`, or your own add / remove). */
export interface ReactionsChange {
  conversationId: string;
  messageId: string;
  /** Every value on the message now, as you see it (`me`: you reacted with it). */
  reactions: ReactionSummary[];
  /** Who changed it; your own uid for your own calls. */
  userId: string;
  emoji: string;
  added: boolean;
}

export interface MessageLogOptions {
  /** Messages kept per conversation (the newest by seq). */
  kept: number;
  uid: () => string | undefined;
  /** A stored message changed (edited, deleted, its reactions, or the preview of the message it answers). */
  updated: (message: ChatMessage) => void;
  edited: (edit: MessageEdit) => void;
  deleted: (deletion: MessageDeletion) => void;
  reactions: (change: ReactionsChange) => void;
}

/** Messages whose reactions are known at most (those of kept messages and a few more). */
const REACTIONS_KEPT = 20_000;

interface Stored {
  message: ChatMessage;
  /** The seq of the newest edit / delete event applied to it. */
  eventSeq: number;
}

/** One reaction value as this client knows it, and when it learned it (ms, local clock). */
interface Known {
  count: number;
  me: boolean;
  at: number;
}

/**
 * The client's copy of each conversation's messages as they are now (issue 14): edit and delete events
 * are folded into the message they name in seq order (the order the inbox hands them), never listed
 * themselves; copies from history or a later connection replace nothing newer (a tombstone stays a
 * tombstone, a later `editedAt` wins); reactions keep per value the count and whether you reacted, the
 * newest knowledge winning (a live update received after a copy was read beats that copy).
 */
export class MessageLog {
  private readonly conversations = new Map<string, Map<string, Stored>>();
  private readonly reactionsById = new Map<string, Map<string, Known>>();

  constructor(private readonly options: MessageLogOptions) {}

  /**
   * A message the inbox handed (in seq order, each once) or a copy from history: stored, or folded when it
   * is an edit / delete event. `readAt`: when the copy was read from the server (its reactions are that old).
   */
  add(message: ChatMessage, readAt: number): void {
    if (message.type === "edit") return this.applyEdit(message);
    if (message.type === "delete") return this.applyDelete(message);
    this.store(message, readAt);
  }

  /** A member's live reaction change. */
  reactionUpdated(update: ReactionUpdatedPayload, at = Date.now()): void {
    const me = update.userId === this.options.uid() ? update.added : undefined;
    this.setReaction(update.messageId, update.emoji, update.count, me, at);
    this.announceReactions(update.conversationId, update.messageId, update.userId, update.emoji, update.added);
  }

  /** The ack of your own add_reaction / remove_reaction (the gateway does not echo it to the calling socket). */
  ownReaction(conversationId: string, messageId: string, emoji: string, count: number, added: boolean): void {
    this.setReaction(messageId, emoji, count, added, Date.now());
    this.announceReactions(conversationId, messageId, this.options.uid() ?? "", emoji, added);
  }

  /** The conversation's messages this client keeps, in seq order, as they are now. */
  list(conversationId: string): ChatMessage[] {
    const here = [...(this.conversations.get(conversationId)?.values() ?? [])];
    return here.sort((a, b) => a.message.seq - b.message.seq).map((s) => this.view(s.message));
  }

  get(conversationId: string, messageId: string): ChatMessage | undefined {
    const stored = this.conversations.get(conversationId)?.get(messageId);
    return stored ? this.view(stored.message) : undefined;
  }

  reactionsOf(messageId: string): ReactionSummary[] {
    return [...(this.reactionsById.get(messageId) ?? [])].map(([emoji, k]) => ({ emoji, count: k.count, me: k.me }));
  }

  forget(conversationId: string): void {
    for (const id of this.conversations.get(conversationId)?.keys() ?? []) this.reactionsById.delete(id);
    this.conversations.delete(conversationId);
  }

  // --- folding -------------------------------------------------------------------------------

  private store(copy: ChatMessage, readAt: number): void {
    const here = this.conversation(copy.conversationId);
    const current = here.get(copy.id);
    const { reactions, ...message } = copy;
    this.takeReactions(copy.id, reactions ?? [], readAt);
    if (!current) {
      here.set(copy.id, { message, eventSeq: 0 });
      this.evict(here);
      return;
    }
    if (!isNewer(message, current.message)) return;
    current.message = message;
    this.options.updated(this.view(message));
  }

  private applyEdit(event: ChatMessage): void {
    const stored = this.target(event);
    const edit: MessageEdit = { conversationId: event.conversationId, messageId: event.targetId ?? "", content: event.content, editedAt: event.createdAt, by: event.senderId, eventId: event.id, seq: event.seq };
    // A copy read after this edit (a later editedAt) already shows it, or a later one.
    const applies = stored && stored.eventSeq < event.seq && !stored.message.deleted && !((stored.message.editedAt ?? 0) > event.createdAt);
    if (stored && applies) {
      stored.eventSeq = event.seq;
      stored.message = { ...stored.message, content: event.content, editedAt: event.createdAt };
      this.replyPreviews(event.conversationId, stored.message.id, (ref) => ({ ...ref, preview: stored.message.encryptionLevel === "high" ? null : event.content.slice(0, 100) }));
      this.options.updated(this.view(stored.message));
    }
    this.options.edited({ ...edit, ...(stored ? { message: this.view(stored.message) } : {}) });
  }

  private applyDelete(event: ChatMessage): void {
    const stored = this.target(event);
    const deletion: MessageDeletion = { conversationId: event.conversationId, messageId: event.targetId ?? "", deletedAt: event.createdAt, by: event.senderId, eventId: event.id, seq: event.seq };
    if (stored && !stored.message.deleted) {
      stored.eventSeq = Math.max(stored.eventSeq, event.seq);
      stored.message = tombstoneOf(stored.message, event.createdAt);
      this.reactionsById.delete(stored.message.id);
      this.replyPreviews(event.conversationId, stored.message.id, (ref) => ({ ...ref, preview: null, deleted: true }));
      this.options.updated(this.view(stored.message));
    }
    this.options.deleted({ ...deletion, ...(stored ? { message: this.view(stored.message) } : {}) });
  }

  /** Replies quote a preview of their original: an edit changes it, a deletion clears it. */
  private replyPreviews(conversationId: string, originalId: string, change: (ref: NonNullable<ChatMessage["replyTo"]>) => NonNullable<ChatMessage["replyTo"]>): void {
    for (const stored of this.conversations.get(conversationId)?.values() ?? []) {
      const ref = stored.message.replyTo;
      if (ref?.id !== originalId || ref.deleted) continue;
      stored.message = { ...stored.message, replyTo: change(ref) };
      this.options.updated(this.view(stored.message));
    }
  }

  private target(event: ChatMessage): Stored | undefined {
    return event.targetId ? this.conversations.get(event.conversationId)?.get(event.targetId) : undefined;
  }

  // --- reactions -----------------------------------------------------------------------------

  /** A copy's reactions, read at `readAt`, replace what this client learned before then. */
  private takeReactions(messageId: string, reactions: ReactionSummary[], readAt: number): void {
    const known = this.reactionsById.get(messageId) ?? new Map<string, Known>();
    for (const [emoji, k] of known) if (k.at < readAt) known.delete(emoji);
    for (const r of reactions) if (!known.has(r.emoji)) known.set(r.emoji, { count: r.count, me: r.me, at: readAt });
    if (known.size > 0) this.reactionsById.set(messageId, known);
    else this.reactionsById.delete(messageId);
  }

  private setReaction(messageId: string, emoji: string, count: number, me: boolean | undefined, at: number): void {
    const known = this.reactionsById.get(messageId) ?? new Map<string, Known>();
    const mine = me ?? known.get(emoji)?.me ?? false;
    if (count > 0) known.set(emoji, { count, me: mine && count > 0, at });
    else known.delete(emoji);
    if (known.size > 0) this.reactionsById.set(messageId, known);
    else this.reactionsById.delete(messageId);
    // Reactions to messages this client does not keep are known all the same, up to a bound.
    if (this.reactionsById.size > REACTIONS_KEPT) this.reactionsById.delete(this.reactionsById.keys().next().value as string);
  }

  private announceReactions(conversationId: string, messageId: string, userId: string, emoji: string, added: boolean): void {
    this.options.reactions({ conversationId, messageId, reactions: this.reactionsOf(messageId), userId, emoji, added });
    const stored = this.conversations.get(conversationId)?.get(messageId);
    if (stored) this.options.updated(this.view(stored.message));
  }

  // --- helpers -------------------------------------------------------------------------------

  private view(message: ChatMessage): ChatMessage {
    const reactions = this.reactionsOf(message.id);
    return reactions.length > 0 ? { ...message, reactions } : { ...message };
  }

  private conversation(conversationId: string): Map<string, Stored> {
    let here = this.conversations.get(conversationId);
    if (!here) this.conversations.set(conversationId, (here = new Map()));
    return here;
  }

  private evict(here: Map<string, Stored>): void {
    if (here.size <= this.options.kept) return;
    const oldest = [...here.values()].sort((a, b) => a.message.seq - b.message.seq).slice(0, here.size - this.options.kept);
    for (const { message } of oldest) {
      here.delete(message.id);
      this.reactionsById.delete(message.id);
    }
  }
}

/** A copy shows a later state than what is kept: a deletion, or a later edit. */
function isNewer(copy: ChatMessage, kept: ChatMessage): boolean {
  if (kept.deleted) return false;
  if (copy.deleted) return true;
  return (copy.editedAt ?? 0) > (kept.editedAt ?? 0);
}

/** What the gateway keeps of a deleted message (docs/PROTOCOL.md, "Edits and deletions"). */
function tombstoneOf(message: ChatMessage, deletedAt: number): ChatMessage {
  const { replyTo: _reply, editedAt: _edited, mentions: _mentions, ...rest } = message;
  return { ...rest, content: "", clientId: "", clientTimestamp: null, metadata: {}, deleted: true, deletedAt };
}

interface ConversationUnread {
  /** Your read position (any device of yours). */
  readSeq: number;
  /** Below and at this seq, this client has not seen the messages itself (undefined: none seen yet). */
  floor?: number;
  /** Unread messages at or below `floor`, as the server last counted them. */
  older: number;
  /** Seqs of messages (and edit / delete events) from others this client handed above readSeq. */
  seqs: Set<number>;
  shown: number;
}

/**
 * Unread counts per conversation, the server's word first (issue 14): `unread_changed` (a read on any of
 * your devices) and the conversation list's `unreadCount` set the count and read position; messages from
 * others handed since add to it; reading (here or elsewhere) takes off what is at or below the new position.
 * Messages older than this client has seen count as the server said until the read position passes them.
 */
export class UnreadCounts {
  private readonly conversations = new Map<string, ConversationUnread>();

  constructor(private readonly changed: (conversationId: string, count: number) => void) {}

  /** A message was handed to the app (in seq order); `fromOthers`: not sent by you under your name. */
  handed(conversationId: string, seq: number, fromOthers: boolean): void {
    const state = this.state(conversationId);
    state.floor ??= seq - 1;
    if (fromOthers && seq > state.readSeq) state.seqs.add(seq);
    this.announce(conversationId, state);
  }

  /** Your read position moved (mark_read from this device, get_receipts). */
  read(conversationId: string, readSeq: number): void {
    const state = this.state(conversationId);
    if (readSeq <= state.readSeq) return;
    state.readSeq = readSeq;
    for (const seq of state.seqs) if (seq <= readSeq) state.seqs.delete(seq);
    this.announce(conversationId, state);
  }

  /** The server's count (unread_changed, a list_conversations item); an older read position is stale news. */
  fromServer(conversationId: string, unreadCount: number, readSeq: number): void {
    const state = this.state(conversationId);
    if (readSeq < state.readSeq) return;
    state.readSeq = readSeq;
    for (const seq of state.seqs) if (seq <= readSeq) state.seqs.delete(seq);
    state.older = Math.max(0, unreadCount - state.seqs.size);
    this.announce(conversationId, state);
  }

  count(conversationId: string): number {
    const state = this.conversations.get(conversationId);
    return state ? countOf(state) : 0;
  }

  readSeqOf(conversationId: string): number {
    return this.conversations.get(conversationId)?.readSeq ?? 0;
  }

  forget(conversationId: string): void {
    if (this.conversations.delete(conversationId)) this.changed(conversationId, 0);
  }

  private announce(conversationId: string, state: ConversationUnread): void {
    const count = countOf(state);
    if (count === state.shown) return;
    state.shown = count;
    this.changed(conversationId, count);
  }

  private state(conversationId: string): ConversationUnread {
    let state = this.conversations.get(conversationId);
    if (!state) this.conversations.set(conversationId, (state = { readSeq: 0, older: 0, seqs: new Set(), shown: 0 }));
    return state;
  }
}

function countOf(state: ConversationUnread): number {
  const older = state.floor !== undefined && state.readSeq >= state.floor ? 0 : state.older;
  return older + state.seqs.size;
}

import { TalowaError } from "./errors.js";
import type { ChatMessage } from "./generated/protocol.js";
import type { ClientStorage } from "./storage.js";

/** A call to the gateway with an ack: resolves with the `{ ok: true }` body, rejects with TalowaError. */
export type Requester = <T extends object>(event: string, payload: unknown) => Promise<T>;

/**
 * Where a client starts in a conversation it has no cursor for:
 * - "recent": at its offline-queue messages if it has some, else at the newest message (older ones are
 *   in history()); what an app wants on a new device;
 * - "all": from the first message (tests and tools that check every delivery).
 */
export type InitialSync = "recent" | "all";

export interface InboxStats {
  /** Messages handed to the app (each id once). */
  handed: number;
  /** Copies received again and dropped (by id or seq). */
  redeliveriesDropped: number;
  /** Catch-ups started because a live message showed a gap. */
  gapCatchUps: number;
  /** Gaps still open after waiting: sequence numbers a failed send used up. */
  holesSkipped: number;
  /** Messages handed below a seq already handed in their conversation: must stay 0. */
  outOfOrder: number;
}

interface ConversationState {
  /** Every message with seq <= cursor has been handed to the app (or deliberately skipped). */
  cursor?: number;
  /** Live messages waiting for a resume or a catch-up. */
  held: ChatMessage[];
  catchingUp: boolean;
  needsConfirm: boolean;
  highestHanded: number;
}

export interface InboxOptions {
  storage: ClientStorage;
  initialSync: InitialSync;
  confirmDelayMs: number;
  /** Hands one message to the app. */
  hand: (message: ChatMessage) => void;
  isOwn: (message: ChatMessage) => boolean;
  /** mark_delivered on the live socket; false when there is none (the confirmation is kept for later). */
  confirm: (conversationId: string, upToSeq: number) => boolean;
}

const PAGE = 100;
const SEEN_MAX = 20_000;
/** A gap that history does not fill yet may be a message stored a moment later: look again before skipping it. */
const HOLE_WAITS_MS = [300, 1_000, 2_000];

class Stale extends Error {}

/**
 * The receiving half of the protocol's rules (docs/PROTOCOL.md "Resume"): per conversation a cursor;
 * after every (re)connection everything is held until each conversation is caught up with
 * fetch_history { afterSeq: cursor }; a live message beyond cursor + 1 is held while the gap is filled;
 * copies are dropped by id and seq; delivery is confirmed in batches. The app gets each conversation's
 * messages in seq order, each once.
 */
export class Inbox {
  readonly stats: InboxStats = { handed: 0, redeliveriesDropped: 0, gapCatchUps: 0, holesSkipped: 0, outOfOrder: 0 };
  private readonly conversations = new Map<string, ConversationState>();
  private readonly seen = new Set<string>();
  private readonly dirtyCursors = new Set<string>();
  private resuming = true;
  private generation = 0;
  private request?: Requester;
  private confirmTimer?: ReturnType<typeof setTimeout>;
  private persistTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly options: InboxOptions) {}

  async load(): Promise<void> {
    for (const [key, cursor] of await this.options.storage.entries<number>("cursor:")) {
      const state = this.state(key.slice("cursor:".length));
      state.cursor = Math.max(state.cursor ?? 0, cursor);
    }
  }

  cursorOf(conversationId: string): number | undefined {
    return this.conversations.get(conversationId)?.cursor;
  }

  /** A new connection: hold every message until resume() is done. */
  connectionOpened(request: Requester): void {
    this.generation += 1;
    this.request = request;
    this.resuming = true;
  }

  connectionClosed(): void {
    this.generation += 1;
    this.request = undefined;
    this.resuming = true;
  }

  /**
   * Catches up every listed conversation, then releases what was held. Rejects if the connection changed.
   * `lastSeq`, when the conversation list carries it, spares the calls for conversations already caught up.
   */
  async resume(conversations: Array<{ id: string; lastSeq?: number }>): Promise<void> {
    const generation = this.generation;
    await eachLimited(conversations, 4, ({ id, lastSeq }) => this.syncOne(id, generation, lastSeq));
    this.check(generation);
    this.resuming = false;
    for (const [id, state] of this.conversations) if (state.held.length > 0 && !state.catchingUp) void this.catchUp(id, state);
    this.flushConfirms();
  }

  /** `new_message` from the gateway (live or offline queue). */
  receive(message: ChatMessage): void {
    const state = this.state(message.conversationId);
    if (this.resuming || state.catchingUp) state.held.push(message);
    else this.accept(message.conversationId, state, message);
  }

  /**
   * The app's own message, once acknowledged: it takes its place in the conversation like any other.
   * `fromHistory`: fields only the server fills (a reply's `replyTo`) are missing, so the stored copy is
   * fetched and handed instead (the local one is held meanwhile, then dropped as a copy).
   */
  receiveOwn(message: ChatMessage, fromHistory = false): void {
    const state = this.state(message.conversationId);
    if (!fromHistory || this.resuming || state.catchingUp) return this.receive(message);
    if (state.cursor === undefined) this.moveCursor(message.conversationId, state, message.seq - 1);
    state.held.push(message);
    void this.catchUp(message.conversationId, state);
  }

  /** The user left the conversation: forget it. */
  forget(conversationId: string): void {
    this.conversations.delete(conversationId);
    this.dirtyCursors.delete(conversationId);
    void this.options.storage.delete(`cursor:${conversationId}`);
  }

  async flush(): Promise<void> {
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const writes = [...this.dirtyCursors].map((id) => {
      const cursor = this.conversations.get(id)?.cursor;
      return cursor === undefined ? undefined : this.options.storage.set(`cursor:${id}`, cursor);
    });
    this.dirtyCursors.clear();
    await Promise.all(writes);
  }

  close(): void {
    clearTimeout(this.confirmTimer);
    void this.flush();
  }

  // --- catching up ---------------------------------------------------------------------------

  private async syncOne(conversationId: string, generation: number, lastSeq?: number): Promise<void> {
    const state = this.state(conversationId);
    try {
      if (state.cursor === undefined) await this.startCursor(conversationId, state, generation, lastSeq);
      const caughtUp = lastSeq !== undefined && state.held.length === 0 && (state.cursor ?? 0) >= lastSeq;
      if (!caughtUp) await this.fill(conversationId, state, generation);
    } catch (error) {
      if (error instanceof TalowaError && error.code === "NOT_FOUND") return this.forget(conversationId);
      throw error;
    }
    state.catchingUp = false;
    this.release(conversationId, state);
  }

  private async startCursor(conversationId: string, state: ConversationState, generation: number, lastSeq?: number): Promise<void> {
    if (this.options.initialSync === "all") return this.moveCursor(conversationId, state, 0);
    const head = lastSeq ?? (await this.page(conversationId, { limit: 1 }, generation)).messages.at(-1)?.seq ?? 0;
    const firstHeld = Math.min(...state.held.map((m) => m.seq));
    this.moveCursor(conversationId, state, state.held.length > 0 ? Math.min(firstHeld - 1, head) : head);
  }

  /** History after the cursor up to the newest; waits a little for a gap before the held messages. */
  private async fill(conversationId: string, state: ConversationState, generation: number): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      for (;;) {
        const page = await this.page(conversationId, { afterSeq: state.cursor ?? 0, limit: PAGE }, generation);
        for (const message of page.messages) if (!this.duplicate(state, message, false)) this.hand(conversationId, state, message);
        if (!page.hasMore || page.messages.length === 0) break;
      }
      const next = Math.min(...state.held.filter((m) => m.seq > (state.cursor ?? 0)).map((m) => m.seq));
      if (!Number.isFinite(next) || next <= (state.cursor ?? 0) + 1) return;
      if (attempt >= HOLE_WAITS_MS.length) {
        this.stats.holesSkipped += 1;
        return;
      }
      await sleep(HOLE_WAITS_MS[attempt]);
      this.check(generation);
    }
  }

  private async catchUp(conversationId: string, state: ConversationState): Promise<void> {
    if (state.catchingUp) return;
    state.catchingUp = true;
    this.stats.gapCatchUps += 1;
    const generation = this.generation;
    try {
      if (state.cursor === undefined) this.moveCursor(conversationId, state, 0);
      await this.fill(conversationId, state, generation);
    } catch (error) {
      state.catchingUp = false;
      if (error instanceof TalowaError && error.code === "NOT_FOUND") return this.forget(conversationId);
      // A new connection's resume catches up and releases; on the same connection, try again shortly.
      if (!(error instanceof Stale)) setTimeout(() => generation === this.generation && !this.resuming && void this.catchUp(conversationId, state), 1_000);
      return;
    }
    state.catchingUp = false;
    this.release(conversationId, state);
  }

  /** Held messages after a catch-up: history went up to the newest, so they follow in seq order. */
  private release(conversationId: string, state: ConversationState): void {
    const held = state.held.sort((a, b) => a.seq - b.seq);
    state.held = [];
    for (const message of held) if (!this.duplicate(state, message)) this.hand(conversationId, state, message);
  }

  private async page(conversationId: string, query: { afterSeq?: number; limit: number }, generation: number) {
    this.check(generation);
    const request = this.request;
    if (!request) throw new Stale();
    for (;;) {
      try {
        const page = await request<{ messages: ChatMessage[]; hasMore: boolean }>("fetch_history", { conversationId, ...query });
        this.check(generation);
        return page;
      } catch (error) {
        // Many conversations after a reconnect can pass the fetch_history budget: wait for it, do not reconnect.
        if (!(error instanceof TalowaError) || error.code !== "RATE_LIMITED") throw error;
        await sleep(error.retryAfterMs ?? 1_000);
        this.check(generation);
      }
    }
  }

  private check(generation: number): void {
    if (generation !== this.generation) throw new Stale();
  }

  // --- handing to the app ----------------------------------------------------------------------

  private accept(conversationId: string, state: ConversationState, message: ChatMessage): void {
    if (this.duplicate(state, message)) return;
    if (state.cursor === undefined) {
      this.moveCursor(conversationId, state, this.options.initialSync === "all" ? 0 : message.seq - 1);
    }
    if (message.seq === (state.cursor ?? 0) + 1) return this.hand(conversationId, state, message);
    state.held.push(message);
    void this.catchUp(conversationId, state);
  }

  /** `pushed`: the gateway sent it (live or queue), as opposed to a history page. */
  private duplicate(state: ConversationState, message: ChatMessage, pushed = true): boolean {
    if (!this.seen.has(message.id) && (state.cursor === undefined || message.seq > state.cursor)) return false;
    if (!pushed) return true;
    this.stats.redeliveriesDropped += 1;
    // The gateway sent it again: its queue entry may be unconfirmed, so confirm it.
    if (!this.options.isOwn(message)) this.needsConfirm(state);
    return true;
  }

  private hand(conversationId: string, state: ConversationState, message: ChatMessage): void {
    this.moveCursor(conversationId, state, message.seq);
    this.remember(message.id);
    if (message.seq < state.highestHanded) this.stats.outOfOrder += 1;
    state.highestHanded = Math.max(state.highestHanded, message.seq);
    this.stats.handed += 1;
    if (!this.options.isOwn(message)) this.needsConfirm(state);
    this.options.hand(message);
  }

  private moveCursor(conversationId: string, state: ConversationState, seq: number): void {
    if (state.cursor !== undefined && seq <= state.cursor) return;
    state.cursor = seq;
    this.dirtyCursors.add(conversationId);
    this.persistTimer ??= setTimeout(() => void this.flush(), 500);
  }

  private remember(id: string): void {
    if (this.seen.size >= SEEN_MAX) this.seen.delete(this.seen.values().next().value as string);
    this.seen.add(id);
  }

  // --- confirming delivery ---------------------------------------------------------------------

  private needsConfirm(state: ConversationState): void {
    state.needsConfirm = true;
    this.confirmTimer ??= setTimeout(() => {
      this.confirmTimer = undefined;
      this.flushConfirms();
    }, this.options.confirmDelayMs);
  }

  private flushConfirms(): void {
    if (this.resuming) return;
    for (const [id, state] of this.conversations) {
      if (!state.needsConfirm || state.cursor === undefined || state.cursor === 0) continue;
      if (this.options.confirm(id, state.cursor)) state.needsConfirm = false;
    }
  }

  private state(conversationId: string): ConversationState {
    let state = this.conversations.get(conversationId);
    if (!state) this.conversations.set(conversationId, (state = { held: [], catchingUp: false, needsConfirm: false, highestHanded: 0 }));
    return state;
  }
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length > 0) await run(queue.shift()!);
  });
  await Promise.all(workers);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import type { TypingPayload } from "./generated/protocol.js";

export interface TypingOptions {
  /** Least time between two typing_start of one conversation (the server's indicator lasts typingTtlMs, 5 s). */
  refreshMs: number;
  /** typing_stop after this long without a keystroke. */
  idleMs: number;
}

/** Outgoing: call `typing()` on every keystroke; it sends typing_start at most once per refreshMs and stops by itself. */
export class TypingSender {
  private readonly active = new Map<string, { sentAt: number; idle: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly emit: (event: "typing_start" | "typing_stop", conversationId: string) => void,
    private readonly options: TypingOptions,
  ) {}

  typing(conversationId: string): void {
    const now = Date.now();
    const current = this.active.get(conversationId);
    if (current) clearTimeout(current.idle);
    const due = !current || now - current.sentAt >= this.options.refreshMs;
    if (due) this.emit("typing_start", conversationId);
    this.active.set(conversationId, { sentAt: due ? now : current.sentAt, idle: setTimeout(() => this.stop(conversationId), this.options.idleMs) });
  }

  stop(conversationId: string): void {
    const current = this.active.get(conversationId);
    if (!current) return;
    clearTimeout(current.idle);
    this.active.delete(conversationId);
    this.emit("typing_stop", conversationId);
  }

  close(): void {
    for (const { idle } of this.active.values()) clearTimeout(idle);
    this.active.clear();
  }
}

/** Incoming: who is typing where; an indicator ends with typing_stop or after its `expiresInMs`. */
export class TypingWatcher {
  private readonly typists = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(private readonly changed: (conversationId: string, userIds: string[]) => void) {}

  receive(payload: TypingPayload): void {
    const { conversationId, userId } = payload;
    const here = this.typists.get(conversationId) ?? new Map<string, ReturnType<typeof setTimeout>>();
    this.typists.set(conversationId, here);
    const before = here.has(userId);
    clearTimeout(here.get(userId));
    if (payload.isTyping) here.set(userId, setTimeout(() => this.end(conversationId, userId), payload.expiresInMs));
    else here.delete(userId);
    if (before !== payload.isTyping) this.changed(conversationId, this.in(conversationId));
  }

  /** A message from the user ends its indicator at once. */
  end(conversationId: string, userId: string): void {
    const here = this.typists.get(conversationId);
    if (!here?.has(userId)) return;
    clearTimeout(here.get(userId));
    here.delete(userId);
    this.changed(conversationId, this.in(conversationId));
  }

  in(conversationId: string): string[] {
    return [...(this.typists.get(conversationId)?.keys() ?? [])];
  }

  /** After a reconnect nothing is known: indicators end. */
  clear(): void {
    for (const [conversationId, here] of this.typists) {
      for (const timer of here.values()) clearTimeout(timer);
      if (here.size > 0) this.changed(conversationId, []);
    }
    this.typists.clear();
  }
}

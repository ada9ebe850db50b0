import { RETRYABLE_CODES, TalowaError } from "./errors.js";
import type { SendMessagePayload, SendMessageResult } from "./generated/protocol.js";
import type { Requester } from "./inbox.js";
import type { ClientStorage } from "./storage.js";

/** A message waiting for its acknowledgement. */
export interface OutboxEntry {
  clientId: string;
  payload: SendMessagePayload;
  /** When send() was called (ms). */
  queuedAt: number;
  attempts: number;
  lastError?: string;
}

export interface OutboxOptions {
  storage: ClientStorage;
  /** Resolves once the client is connected and resumed; rejects when it is closed. */
  ready: () => Promise<Requester>;
  maxAttempts: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  changed: (entries: OutboxEntry[]) => void;
  sent: (entry: OutboxEntry, result: SendMessageResult) => void;
  failed: (entry: OutboxEntry, error: TalowaError) => void;
}

/**
 * Sends each message until it is acknowledged, always with the same clientId (the gateway stores and
 * delivers it once whatever the number of tries): after a time-out or a lost connection at the next
 * connection, after UNAVAILABLE / RATE_LIMITED / INTERNAL with backoff and never before `retryAfterMs`.
 * Messages to one conversation go one after the other, so they keep the order they were sent in.
 * Entries are kept in storage until acknowledged or refused, so they survive a restart.
 */
export class Outbox {
  private readonly lanes = new Map<string, OutboxEntry[]>();
  private readonly waiters = new Map<string, { resolve: (r: SendMessageResult) => void; reject: (e: TalowaError) => void }>();
  private readonly running = new Set<string>();
  private closed = false;

  constructor(private readonly options: OutboxOptions) {}

  /** Entries a previous run left unacknowledged: sent again (their results come as events). */
  async load(): Promise<void> {
    const stored = (await this.options.storage.entries<OutboxEntry>("outbox:")).map(([, entry]) => entry);
    for (const entry of stored.sort((a, b) => a.queuedAt - b.queuedAt)) this.enqueue(entry);
  }

  send(payload: SendMessagePayload): Promise<SendMessageResult> {
    if (this.closed) return Promise.reject(TalowaError.unavailable("The client is closed."));
    const existing = this.waiters.get(payload.clientId);
    if (existing) return Promise.reject(new TalowaError({ code: "INVALID_ARGUMENT", message: `clientId ${payload.clientId} is already being sent.` }));
    const entry: OutboxEntry = { clientId: payload.clientId, payload, queuedAt: Date.now(), attempts: 0 };
    const result = new Promise<SendMessageResult>((resolve, reject) => this.waiters.set(entry.clientId, { resolve, reject }));
    void this.options.storage.set(`outbox:${entry.clientId}`, entry);
    this.enqueue(entry);
    return result;
  }

  pending(): OutboxEntry[] {
    return [...this.lanes.values()].flat().sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** Stops sending; entries stay in storage for the next start. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.values()) waiter.reject(TalowaError.unavailable("The client was closed before the message was acknowledged."));
    this.waiters.clear();
  }

  private enqueue(entry: OutboxEntry): void {
    const key = entry.payload.conversationId ?? `direct:${entry.payload.recipientId}`;
    const lane = this.lanes.get(key) ?? [];
    lane.push(entry);
    this.lanes.set(key, lane);
    this.options.changed(this.pending());
    void this.run(key);
  }

  private async run(key: string): Promise<void> {
    if (this.running.has(key)) return;
    this.running.add(key);
    try {
      for (let lane = this.lanes.get(key); lane && lane.length > 0 && !this.closed; lane = this.lanes.get(key)) {
        const done = await this.attempt(lane[0]);
        if (!done) continue;
        lane.shift();
        if (lane.length === 0) this.lanes.delete(key);
        this.options.changed(this.pending());
      }
    } finally {
      this.running.delete(key);
    }
  }

  /** One try; true when the entry is finished (acknowledged or refused for good). */
  private async attempt(entry: OutboxEntry): Promise<boolean> {
    let request: Requester;
    try {
      request = await this.options.ready();
    } catch {
      return false; // closed
    }
    entry.attempts += 1;
    let failure: TalowaError;
    try {
      const result = await request<SendMessageResult>("send_message", entry.payload);
      this.finish(entry);
      this.waiters.get(entry.clientId)?.resolve(result);
      this.waiters.delete(entry.clientId);
      this.options.sent(entry, result);
      return true;
    } catch (error) {
      failure = error instanceof TalowaError ? error : TalowaError.unavailable(String(error));
    }
    entry.lastError = `${failure.code}: ${failure.message}`;
    if (!RETRYABLE_CODES.has(failure.code) || entry.attempts >= this.options.maxAttempts) {
      this.finish(entry);
      this.waiters.get(entry.clientId)?.reject(failure);
      this.waiters.delete(entry.clientId);
      this.options.failed(entry, failure);
      return true;
    }
    void this.options.storage.set(`outbox:${entry.clientId}`, entry);
    await sleep(Math.max(failure.retryAfterMs ?? 0, this.backoff(entry.attempts)));
    return false;
  }

  private finish(entry: OutboxEntry): void {
    void this.options.storage.delete(`outbox:${entry.clientId}`);
  }

  private backoff(attempts: number): number {
    const { minRetryDelayMs: min, maxRetryDelayMs: max } = this.options;
    const delay = Math.min(max, min * 2 ** Math.max(0, attempts - 1));
    return delay / 2 + (Math.random() * delay) / 2;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

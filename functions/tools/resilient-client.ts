/**
 * The reference client behaviour of docs/PROTOCOL.md, used by the fault tests and the chaos run:
 * reconnects to another gateway when one goes away; per conversation it keeps `synced`, the seq up to
 * which it has everything the server stored; a live message beyond `synced + 1` (a gap), a reconnect or
 * a `resync` hint makes it catch up with fetch_history afterSeq=synced while holding live messages back,
 * so the application gets each conversation complete and in seq order. It drops messages it already has
 * (by id), confirms delivery, and retries unacknowledged sends with the same clientId.
 */
import { io, Socket } from "socket.io-client";
import type { Ack, ChatMessage, ClientToServerEvents, ConversationSummary, SendMessageResult, ServerToClientEvents } from "../src/protocol";

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ResilientClientOptions {
  urls: string[];
  token: () => Promise<string> | string;
  /** Pause before reconnecting, ms. */
  reconnectDelayMs?: number;
  ackTimeoutMs?: number;
  onMessage?: (message: ChatMessage) => void;
}

export class ResilientClient {
  /** Messages handed to the application, in the order it got them (each id once). */
  readonly delivered: ChatMessage[] = [];
  /** Copies received again and dropped (by id): redeliveries the client absorbed. */
  redeliveriesDropped = 0;
  /** Messages that reached the application with a seq below one it already had in that conversation. */
  outOfOrder = 0;
  /** Catch-ups started because a live message showed a gap. */
  gapCatchUps = 0;
  connects = 0;
  private readonly seen = new Set<string>();
  private readonly synced = new Map<string, number>();
  private readonly highestDelivered = new Map<string, number>();
  private readonly heldByConversation = new Map<string, ChatMessage[]>();
  private readonly catchingUp = new Set<string>();
  private socket?: ClientSocket;
  private urlIndex = 0;
  private resuming = false;
  private held: ChatMessage[] = [];
  private closed = false;
  private readyWaiters: Array<() => void> = [];
  private confirmTimer?: NodeJS.Timeout;
  private readonly toConfirm = new Map<string, number>();

  constructor(private readonly options: ResilientClientOptions) {}

  get connected(): boolean {
    return !!this.socket?.connected && !this.resuming;
  }

  get currentUrl(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length];
  }

  start(urlIndex = 0): Promise<void> {
    this.urlIndex = urlIndex;
    void this.open();
    return this.ready();
  }

  /** Resolves once connected and resumed. */
  ready(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** A line about this client's state, for diagnosing a run that did not converge. */
  describe(): string {
    return `url=${this.currentUrl} socket=${this.socket ? (this.socket.connected ? "connected" : "connecting") : "none"} resuming=${this.resuming} waiters=${this.readyWaiters.length} catchingUp=${this.catchingUp.size} delivered=${this.delivered.length}`;
  }

  /** Drops the current connection as a network loss would; the client reconnects by itself. */
  dropConnection(): void {
    this.socket?.disconnect();
  }

  /** Any call with an ack, once connected. */
  async request<T extends object>(event: string, payload: unknown): Promise<Ack<T>> {
    await this.ready();
    const socket = this.socket as unknown as { timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<Ack<T>> } };
    return socket.timeout(this.options.ackTimeoutMs ?? 5_000).emitWithAck(event, payload);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.confirmTimer);
    this.socket?.disconnect();
  }

  /** Sends until acknowledged (same clientId on every try); rejects on a refusal that retrying cannot fix. */
  async send(payload: { clientId: string; recipientId?: string; conversationId?: string; content: string }, maxAttempts = 20): Promise<SendMessageResult> {
    let lastError = "no attempt";
    for (let attempt = 0; attempt < maxAttempts && !this.closed; attempt += 1) {
      await this.ready();
      let answer: Ack<SendMessageResult>;
      try {
        answer = (await this.socket!.timeout(this.options.ackTimeoutMs ?? 5_000).emitWithAck("send_message", { type: "text", ...payload })) as Ack<SendMessageResult>;
      } catch (error) {
        lastError = String(error); // no ack (timeout, connection lost): retry with the same clientId
        await sleep(200);
        continue;
      }
      if (answer.ok) return answer;
      lastError = `${answer.error.code}: ${answer.error.message}`;
      if (answer.error.code !== "UNAVAILABLE" && answer.error.code !== "RATE_LIMITED") throw new Error(lastError);
      await sleep(answer.error.retryAfterMs ?? 200);
    }
    throw new Error(`send ${payload.clientId} not acknowledged after ${maxAttempts} attempts: ${lastError}`);
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    const token = await this.options.token();
    const socket: ClientSocket = io(this.currentUrl, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
    this.socket = socket;
    this.resuming = true;
    this.held = [];
    socket.on("new_message", (message) => (this.resuming ? this.held.push(message) : this.receive(socket, message)));
    socket.on("auth_success", () => {
      this.connects += 1;
      void this.resume(socket);
    });
    socket.on("resync", () => {
      if (!this.resuming) void this.resume(socket);
    });
    socket.on("connect_error", () => this.failover(socket));
    socket.on("disconnect", () => this.failover(socket));
  }

  private failover(socket: ClientSocket): void {
    if (this.socket !== socket || this.closed) return;
    socket.removeAllListeners();
    socket.disconnect();
    this.socket = undefined;
    this.urlIndex += 1;
    setTimeout(() => void this.open(), this.options.reconnectDelayMs ?? 200);
  }

  /** Learns every conversation and catches each up, holding live messages; then releases them. */
  private async resume(socket: ClientSocket): Promise<void> {
    this.resuming = true;
    try {
      const list = (await socket.timeout(5_000).emitWithAck("list_conversations", {})) as Ack<{ conversations: ConversationSummary[] }>;
      if (!list.ok) throw new Error(list.error.message);
      for (const conversation of list.conversations) await this.fetchAfterSynced(socket, conversation.id);
    } catch {
      if (this.socket === socket) this.failover(socket);
      return;
    }
    if (this.socket !== socket) return;
    const held = this.held;
    this.held = [];
    this.resuming = false;
    for (const message of held) this.receive(socket, message);
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /** A live message: delivered if it continues its conversation, else held while the gap is filled. */
  private receive(socket: ClientSocket, message: ChatMessage): void {
    if (this.seen.has(message.id)) {
      this.redeliveriesDropped += 1;
      return;
    }
    const id = message.conversationId;
    if (this.catchingUp.has(id) || message.seq > (this.synced.get(id) ?? 0) + 1) {
      this.heldByConversation.set(id, [...(this.heldByConversation.get(id) ?? []), message]);
      if (!this.catchingUp.has(id)) void this.catchUp(socket, id);
      return;
    }
    this.deliver(message);
  }

  private async catchUp(socket: ClientSocket, conversationId: string): Promise<void> {
    this.catchingUp.add(conversationId);
    this.gapCatchUps += 1;
    try {
      await this.fetchAfterSynced(socket, conversationId);
    } catch {
      // connection trouble: the reconnect's resume fetches again; held messages are released below either way
    }
    this.catchingUp.delete(conversationId);
    const held = (this.heldByConversation.get(conversationId) ?? []).sort((a, b) => a.seq - b.seq);
    this.heldByConversation.delete(conversationId);
    for (const message of held) this.deliver(message);
  }

  private async fetchAfterSynced(socket: ClientSocket, conversationId: string): Promise<void> {
    for (;;) {
      const afterSeq = this.synced.get(conversationId) ?? 0;
      const page = (await socket.timeout(5_000).emitWithAck("fetch_history", { conversationId, afterSeq, limit: 100 })) as Ack<{
        messages: ChatMessage[];
        hasMore: boolean;
      }>;
      if (!page.ok) throw new Error(page.error.message);
      for (const message of page.messages) this.deliver(message);
      if (!page.hasMore) return;
    }
  }

  /** To the application, once per id; `synced` moves up (history pages and held messages are complete ranges). */
  private deliver(message: ChatMessage): void {
    const id = message.conversationId;
    this.synced.set(id, Math.max(this.synced.get(id) ?? 0, message.seq));
    if (this.seen.has(message.id)) {
      this.redeliveriesDropped += 1;
      return;
    }
    this.seen.add(message.id);
    if (message.seq < (this.highestDelivered.get(id) ?? 0)) this.outOfOrder += 1;
    this.highestDelivered.set(id, Math.max(this.highestDelivered.get(id) ?? 0, message.seq));
    this.delivered.push(message);
    this.options.onMessage?.(message);
    this.confirmSoon(message);
  }

  private confirmSoon(message: ChatMessage): void {
    this.toConfirm.set(message.conversationId, Math.max(this.toConfirm.get(message.conversationId) ?? 0, message.seq));
    if (this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      const socket = this.socket;
      if (!socket?.connected) return;
      for (const [conversationId, upToSeq] of this.toConfirm) socket.emit("mark_delivered", { conversationId, upToSeq });
      this.toConfirm.clear();
    }, 100);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

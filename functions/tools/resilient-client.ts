/**
 * The reference client behaviour of docs/PROTOCOL.md, used by the fault tests and the chaos run:
 * reconnects to another gateway when one goes away, resumes every conversation from the last seq it
 * has (fetch_history afterSeq), holds live messages back until the resume is done, drops messages it
 * already has (by id), confirms delivery, and retries unacknowledged sends with the same clientId.
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
  connects = 0;
  private readonly seen = new Set<string>();
  private readonly lastSeq = new Map<string, number>();
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
    socket.on("new_message", (message) => (this.resuming ? this.held.push(message) : this.accept(message)));
    socket.on("auth_success", () => void this.resume(socket));
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

  /** Learns every conversation, fetches what came after the last seq it has, then releases held messages in order. */
  private async resume(socket: ClientSocket): Promise<void> {
    try {
      const list = (await socket.timeout(5_000).emitWithAck("list_conversations", {})) as Ack<{ conversations: ConversationSummary[] }>;
      if (!list.ok) throw new Error(list.error.message);
      for (const conversation of list.conversations) await this.catchUp(socket, conversation.id);
    } catch {
      if (this.socket === socket) this.failover(socket);
      return;
    }
    if (this.socket !== socket) return;
    const held = this.held.sort((a, b) => (a.conversationId === b.conversationId ? a.seq - b.seq : 0));
    this.held = [];
    this.resuming = false;
    this.connects += 1;
    for (const message of held) this.accept(message);
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  private async catchUp(socket: ClientSocket, conversationId: string): Promise<void> {
    for (;;) {
      const afterSeq = this.lastSeq.get(conversationId) ?? 0;
      const page = (await socket.timeout(5_000).emitWithAck("fetch_history", { conversationId, afterSeq, limit: 100 })) as Ack<{
        messages: ChatMessage[];
        hasMore: boolean;
      }>;
      if (!page.ok) throw new Error(page.error.message);
      for (const message of page.messages) this.accept(message);
      if (!page.hasMore) return;
    }
  }

  private accept(message: ChatMessage): void {
    if (this.seen.has(message.id)) {
      this.redeliveriesDropped += 1;
      return;
    }
    this.seen.add(message.id);
    const last = this.lastSeq.get(message.conversationId) ?? 0;
    if (message.seq < last) this.outOfOrder += 1;
    this.lastSeq.set(message.conversationId, Math.max(last, message.seq));
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

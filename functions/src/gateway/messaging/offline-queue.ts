import { GatewayError } from "../../errors";
import type { Conversation, MessageStore, QueueEntry } from "../../ports/message-store";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { storeCall } from "./store-calls";

export interface OfflineQueuePorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

/** When, after Redis returns, clients are told to resync and queued messages are handed over. */
const REDIS_RECOVERY_PASSES_MS = [1_000, 6_000];

interface Prepared {
  conversations: Conversation[];
  pending: QueueEntry[];
}

/**
 * The offline queue's delivery side: at connect, a socket joins its group rooms and gets what was
 * queued for it in the same tick (so no live message overtakes a queued one); a queue longer than one
 * flush continues as the client confirms; after a Redis outage, connected users get what was queued
 * for them meanwhile and are told to resync.
 */
export function offlineQueueFeature(ports: OfflineQueuePorts) {
  return (ctx: GatewayContext): GatewayFeature => new OfflineQueue(ctx, ports);
}

class OfflineQueue implements GatewayFeature {
  readonly name = "offline-queue";
  private readonly prepared = new WeakMap<GatewaySocket, Prepared>();
  /** Sockets whose offline queue did not fit one flush, with the entries already sent to them. */
  private readonly continuing = new Map<string, Set<string>>();
  private readonly conversations: ConversationDirectory;
  private stopped = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: OfflineQueuePorts,
  ) {
    this.conversations = ports.conversations(ctx);
    ctx.hooks.on("redisHealth", ({ up }) => {
      if (up) this.afterRedisOutage();
    });
    ctx.hooks.on("deliveryConfirmed", ({ socket }) => this.continueFlush(socket));
  }

  /**
   * Before the socket connects: its conversations (to join their rooms) and its offline queue. Essential:
   * without them the socket would miss group messages while showing online (nothing queued for it), so a
   * store failure refuses the socket with UNAVAILABLE and retryAfterMs; it reconnects and gets everything.
   */
  async prepare(socket: GatewaySocket): Promise<void> {
    const { uid } = socket.data;
    const { store } = this.ports;
    try {
      const [conversations, pending] = await Promise.all([
        storeCall(this.ctx, store.conversationsOf(uid), "loading conversations"),
        storeCall(this.ctx, store.pendingFor(uid, this.ctx.config.offlineFlushLimit), "loading the offline queue"),
      ]);
      this.prepared.set(socket, { conversations, pending });
    } catch (error) {
      const cause = GatewayError.from(error);
      throw new GatewayError("UNAVAILABLE", `Could not load your conversations (${cause.message}); reconnect later.`, {
        reason: "NOT_READY",
        retryAfterMs: this.ctx.config.reconnectAfterMs,
      });
    }
  }

  /** Synchronous on purpose: joining the rooms and emitting the queued messages happen in one tick. */
  onConnection(socket: GatewaySocket): void {
    const prepared = this.prepared.get(socket) ?? { conversations: [], pending: [] };
    this.prepared.delete(socket);
    const groupRooms = prepared.conversations.filter((c) => c.type === "group").map((c) => conversationRoom(c.id));
    if (groupRooms.length > 0) socket.join(groupRooms);
    for (const conversation of prepared.conversations) this.conversations.remember(conversation);
    this.emitQueued(socket, prepared.pending);
    if (prepared.pending.length >= this.ctx.config.offlineFlushLimit) this.continuing.set(socket.id, new Set(prepared.pending.map((e) => e.messageId)));
  }

  onDisconnect(socket: GatewaySocket): void {
    this.continuing.delete(socket.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private emitQueued(socket: GatewaySocket, entries: QueueEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) socket.emit("new_message", entry.message);
    this.ctx.metrics.queueFlushes.inc();
    this.ctx.metrics.queueFlushedEntries.inc(entries.length);
  }

  /** A queue longer than one flush: once the client confirms, the next entries follow (never one twice). */
  private async continueFlush(socket: GatewaySocket): Promise<void> {
    const sent = this.continuing.get(socket.id);
    if (!sent) return;
    const pending = await storeCall(this.ctx, this.ports.store.pendingFor(socket.data.uid, this.ctx.config.offlineFlushLimit), "loading the offline queue");
    const next = pending.filter((e) => !sent.has(e.messageId));
    if (next.length === 0) {
      this.continuing.delete(socket.id);
      return;
    }
    for (const entry of next) sent.add(entry.messageId);
    this.emitQueued(socket, next);
  }

  /**
   * Instances notice Redis coming back at slightly different times, so messages can still be queued for
   * (or miss) users connected here for a few seconds after this instance's own recovery: hand over what
   * is queued, and tell the clients to catch up from their last seq, twice, a little apart.
   */
  private afterRedisOutage(): void {
    for (const delayMs of REDIS_RECOVERY_PASSES_MS) {
      setTimeout(() => {
        if (this.stopped) return;
        this.ctx.io.local.emit("resync", { reason: "redis-recovered" });
        void this.redeliverQueuedToLocalUsers();
      }, delayMs).unref();
    }
  }

  /** While Redis was away, users on other instances looked offline from here, so their messages were queued. */
  private async redeliverQueuedToLocalUsers(): Promise<void> {
    const users = new Set([...this.ctx.io.of("/").sockets.values()].map((s) => s.data.uid));
    for (const uid of users) {
      try {
        const pending = await this.ports.store.pendingFor(uid, this.ctx.config.offlineFlushLimit);
        for (const entry of pending) this.ctx.io.local.to(userRoom(uid)).emit("new_message", entry.message);
      } catch (error) {
        this.ctx.logger.warn("redelivery after redis recovery failed", { uid, error: String(error) });
      }
    }
  }
}

import type { Conversation, MessageStore, QueueEntry } from "../../ports/message-store";
import type { QueueMarkers } from "../../ports/queue-markers";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { storeCall } from "./store-calls";

export interface OfflineQueuePorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** "Known empty" marks: an admission whose queue is known empty reads no queue (docs/DATA-MODEL.md). */
  markers: QueueMarkers;
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
  /** Sockets handed queued entries at connect: once they confirm and the queue is empty, it is marked so. */
  private readonly flushed = new Set<string>();
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
    // Once committed, a message's queue entries invalidate the recipients' "known empty" marks again
    // (sending did it before the commit too: see QueueMarkers).
    ctx.hooks.on("messageStored", ({ offline }) => ports.markers.queueing(offline));
  }

  /** Before the socket connects: its conversations (to join their rooms) and its offline queue. */
  async prepare(socket: GatewaySocket): Promise<void> {
    const { uid } = socket.data;
    const { store } = this.ports;
    const [conversations, pending] = await Promise.all([storeCall(this.ctx, store.conversationsOf(uid), "loading conversations"), this.queuedFor(uid)]);
    this.prepared.set(socket, { conversations, pending });
  }

  /** The user's queue; no query when it is known to be empty (the common case), marked empty when found so. */
  private async queuedFor(uid: string): Promise<QueueEntry[]> {
    const { knownEmpty, generation } = await this.ports.markers.check(uid);
    if (knownEmpty) {
      this.ctx.metrics.queueReadsSkipped.inc();
      return [];
    }
    const pending = await storeCall(this.ctx, this.ports.store.pendingFor(uid, this.ctx.config.offlineFlushLimit), "loading the offline queue");
    if (pending.length === 0 && generation !== null) void this.ports.markers.markEmpty(uid, generation);
    return pending;
  }

  /** Synchronous on purpose: joining the rooms and emitting the queued messages happen in one tick. */
  onConnection(socket: GatewaySocket): void {
    const prepared = this.prepared.get(socket) ?? { conversations: [], pending: [] };
    this.prepared.delete(socket);
    const groupRooms = prepared.conversations.filter((c) => c.type === "group").map((c) => conversationRoom(c.id));
    if (groupRooms.length > 0) socket.join(groupRooms);
    for (const conversation of prepared.conversations) this.conversations.remember(conversation);
    this.emitQueued(socket, prepared.pending);
    if (prepared.pending.length > 0) this.flushed.add(socket.id);
    if (prepared.pending.length >= this.ctx.config.offlineFlushLimit) this.continuing.set(socket.id, new Set(prepared.pending.map((e) => e.messageId)));
  }

  onDisconnect(socket: GatewaySocket): void {
    this.continuing.delete(socket.id);
    this.flushed.delete(socket.id);
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
    if (!sent) return this.markEmptyOnceConfirmed(socket);
    const pending = await storeCall(this.ctx, this.ports.store.pendingFor(socket.data.uid, this.ctx.config.offlineFlushLimit), "loading the offline queue");
    const next = pending.filter((e) => !sent.has(e.messageId));
    if (next.length === 0) {
      this.continuing.delete(socket.id);
      return this.markEmptyOnceConfirmed(socket);
    }
    for (const entry of next) sent.add(entry.messageId);
    this.emitQueued(socket, next);
  }

  /** A socket that confirmed what it was handed at connect: if nothing is left queued, mark the queue empty. */
  private async markEmptyOnceConfirmed(socket: GatewaySocket): Promise<void> {
    if (!this.flushed.has(socket.id)) return;
    const { uid } = socket.data;
    const { generation } = await this.ports.markers.check(uid);
    if (generation === null) return;
    const left = await storeCall(this.ctx, this.ports.store.pendingFor(uid, 1), "loading the offline queue");
    if (left.length > 0) return;
    this.flushed.delete(socket.id);
    await this.ports.markers.markEmpty(uid, generation);
  }

  /**
   * Instances notice Redis coming back at slightly different times, so messages can still be queued for
   * (or miss) users connected here for a few seconds after this instance's own recovery: hand over what
   * is queued, and tell the clients to catch up from their last seq, twice, a little apart.
   */
  private afterRedisOutage(): void {
    void this.ports.markers.repair();
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

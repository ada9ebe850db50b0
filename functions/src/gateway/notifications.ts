import { z } from "zod";
import { GatewayError } from "../errors";
import type { BlockChecks } from "../ports/block-list/block-list";
import type { Conversation } from "../ports/message-store";
import { decodeCursor, NewNotification, NotificationStore } from "../ports/notification-store";
import type { ChatMessage, EmergencyBroadcastPayload, NotificationItem, NotificationsChangedPayload } from "../protocol";
import type { QueueMarkers } from "../ports/queue-markers";
import { withTimeout } from "../util/with-timeout";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "./types";

const DAY_MS = 86_400_000;
/** auth_success waits at most this long for the unread count (it is then left out, never the connection refused). */
const UNREAD_AT_ADMISSION_MS = 2_000;
const PREVIEW_CHARS = 100;

const listSchema = z.object({ limit: z.number().int().positive().optional(), before: z.string().max(32).optional() });
const notificationRefSchema = z.object({ id: z.string().min(1).max(300) });
const noPayload = z.object({}).optional();

export interface NotificationPorts {
  store: NotificationStore;
  blocks: BlockChecks;
  /** "No unread notification" marks (Redis), so most admissions count nothing (issue 13); same rules as the queue's. */
  markers: QueueMarkers;
}

/**
 * The notification center: entries for mentions (`messageStored` with `mentions`), being added to a group
 * (`conversationChanged`), missed calls (`callMissed`) and emergency broadcasts (`broadcastDelivered` live,
 * `broadcastReplayed` at admission), stored per user with an expiry and sent live as `notification_new` to
 * every device of the user; `get_notifications`, `mark_notification_read`, `clear_notification`,
 * `clear_all_notifications`; the unread count in `auth_success`. Pushes for mentions are the push feature's.
 */
export function notificationsFeature(ports: NotificationPorts) {
  return (ctx: GatewayContext): GatewayFeature => new Notifications(ctx, ports).feature();
}

class Notifications {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: NotificationPorts,
  ) {
    ctx.hooks.on("messageStored", ({ message, senderId }) => this.onMentions(message, senderId));
    ctx.hooks.on("conversationChanged", ({ conversation, added, by }) => this.onAdded(conversation, added, by));
    ctx.hooks.on("callMissed", (missed) => this.onMissedCall(missed));
    ctx.hooks.on("broadcastDelivered", ({ broadcast, uids }) => this.onBroadcast(broadcast, uids));
    ctx.hooks.on("redisHealth", ({ up }) => (up ? ports.markers.repair() : undefined));
    ctx.hooks.on("broadcastReplayed", ({ broadcasts, uid }) => Promise.all(broadcasts.map((b) => this.onBroadcast(b, [uid]))).then(() => undefined));
    this.defineCalls();
  }

  feature(): GatewayFeature {
    return {
      name: "notifications",
      prepare: (socket) => this.prepare(socket),
    };
  }

  private async prepare(socket: GatewaySocket): Promise<void> {
    const unread = await withTimeout(this.unreadAtAdmission(socket.data.uid), UNREAD_AT_ADMISSION_MS, () => new Error("unread count timed out")).catch((error) => {
      this.ctx.logger.warn("unread notification count failed", { uid: socket.data.uid, error: String(error) });
      return undefined;
    });
    if (unread !== undefined) socket.data.prepared = { ...socket.data.prepared, unreadNotifications: unread };
  }

  /** No count query when the user is known to have nothing unread (the common case); marked so when counted 0. */
  private async unreadAtAdmission(uid: string): Promise<number> {
    const { knownEmpty, generation } = await this.ports.markers.check(uid);
    if (knownEmpty) {
      this.ctx.metrics.unreadCountsSkipped.inc();
      return 0;
    }
    const unread = await this.ports.store.unreadCount(uid);
    if (unread === 0 && generation !== null) void this.ports.markers.markEmpty(uid, generation);
    return unread;
  }

  private defineCalls(): void {
    const { calls } = this.ctx;
    calls.define("get_notifications", { schema: listSchema, handle: (p, socket) => this.list(socket.data.uid, p.limit, p.before) });
    calls.define("mark_notification_read", {
      schema: notificationRefSchema,
      userAction: true,
      handle: async ({ id: notificationId }, socket) => {
        const { uid } = socket.data;
        await this.require(this.stored(this.ports.store.markRead(uid, notificationId, this.ctx.clock.now())), notificationId);
        return this.tellOtherDevices(socket, { change: "read", id: notificationId, unreadCount: await this.stored(this.ports.store.unreadCount(uid)) });
      },
    });
    calls.define("clear_notification", {
      schema: notificationRefSchema,
      userAction: true,
      handle: async ({ id: notificationId }, socket) => {
        const { uid } = socket.data;
        await this.require(this.stored(this.ports.store.clear(uid, notificationId)), notificationId);
        return this.tellOtherDevices(socket, { change: "cleared", id: notificationId, unreadCount: await this.stored(this.ports.store.unreadCount(uid)) });
      },
    });
    calls.define("clear_all_notifications", {
      schema: noPayload,
      userAction: true,
      handle: async (_, socket) => {
        const { uid } = socket.data;
        const cleared = await this.stored(this.ports.store.clearAll(uid));
        this.tellOtherDevices(socket, { change: "cleared_all", id: null, unreadCount: 0 });
        return { cleared, unreadCount: 0 };
      },
    });
  }

  /** The user's other devices (on every instance) update their notification center without listing again. */
  private tellOtherDevices(socket: GatewaySocket, change: NotificationsChangedPayload): { id: string | null; unreadCount: number } {
    this.ctx.io.to(userRoom(socket.data.uid)).except(socket.id).emit("notifications_changed", change);
    return { id: change.id, unreadCount: change.unreadCount };
  }

  private async list(uid: string, limit: number | undefined, before: string | undefined) {
    if (before !== undefined && !decodeCursor(before)) throw new GatewayError("INVALID_ARGUMENT", "before: not a nextBefore this server gave.");
    const max = this.ctx.config.notificationPageMax;
    const [page, unreadCount] = await Promise.all([
      this.stored(this.ports.store.list(uid, Math.min(limit ?? max, max), before)),
      this.stored(this.ports.store.unreadCount(uid)),
    ]);
    return { notifications: page.notifications, unreadCount, nextBefore: page.nextBefore, hasMore: page.nextBefore !== null };
  }

  private async require(found: Promise<boolean>, notificationId: string): Promise<void> {
    if (!(await found)) throw new GatewayError("NOT_FOUND", `No notification ${notificationId} of yours.`);
  }

  /** A store call; a failure is UNAVAILABLE (retry later). */
  private async stored<T>(operation: Promise<T>): Promise<T> {
    try {
      return await withTimeout(operation, this.ctx.config.storeTimeoutMs, () => new Error("timed out"));
    } catch (error) {
      this.ctx.logger.warn("notification store failed", { error: String(error) });
      throw new GatewayError("UNAVAILABLE", "The notification store did not answer; retry later.");
    }
  }

  // --- the kinds --------------------------------------------------------------------------------

  private async onMentions(message: ChatMessage, senderId: string): Promise<void> {
    if (!message.mentions?.length) return;
    const blockers = await this.ports.blocks.blockersOf(senderId);
    const data: Record<string, string> = { conversationId: message.conversationId, messageId: message.id, seq: String(message.seq) };
    if (!message.isAnonymous && message.senderId) data.senderId = message.senderId;
    const body = mentionPreview(message);
    await this.deliver(
      message.mentions
        .filter((uid) => !blockers.has(uid))
        .map((uid) => ({ id: `mention_${message.id}_${uid}`, uid, kind: "mention", title: "You were mentioned", body, data, createdAt: message.createdAt })),
    );
  }

  private async onAdded(conversation: Conversation, added: string[], by: string): Promise<void> {
    if (conversation.type !== "group") return;
    const now = this.ctx.clock.now();
    const name = conversation.name ?? "a group";
    await this.deliver(
      added
        .filter((uid) => uid !== by)
        .map((uid) => ({
          id: `added_${conversation.id}_${uid}_${now}`,
          uid,
          kind: "added_to_group",
          title: `Added to ${name}`,
          body: `You were added to ${name}.`,
          data: { conversationId: conversation.id, by },
          createdAt: now,
        })),
    );
  }

  private async onMissedCall(missed: { callId: string; callerId: string; conversationId: string | null; media: string; missedBy: string[]; at: number }): Promise<void> {
    const data: Record<string, string> = { callId: missed.callId, callerId: missed.callerId, media: missed.media };
    if (missed.conversationId) data.conversationId = missed.conversationId;
    const title = missed.media === "video" ? "Missed video call" : "Missed call";
    await this.deliver(missed.missedBy.map((uid) => ({ id: `call_${missed.callId}_${uid}`, uid, kind: "missed_call", title, body: "You missed a call.", data, createdAt: missed.at })));
  }

  private async onBroadcast(broadcast: EmergencyBroadcastPayload, uids: string[]): Promise<void> {
    const data = { broadcastId: broadcast.id, priority: broadcast.priority };
    await this.deliver(
      uids.map((uid) => ({ id: `broadcast_${broadcast.id}_${uid}`, uid, kind: "emergency_broadcast", title: broadcast.title, body: broadcast.body, data, createdAt: broadcast.createdAt })),
    );
  }

  /** Stores the notifications and sends each one created (not an earlier copy) to its user's devices. */
  private async deliver(notifications: NewNotification[]): Promise<void> {
    if (notifications.length === 0) return;
    const expireAt = this.ctx.clock.now() + this.ctx.config.notificationRetentionDays * DAY_MS;
    // Before the write and again once it is stored: an admission counting meanwhile cannot mark the user empty.
    const owners = [...new Set(notifications.map((n) => n.uid))];
    await this.ports.markers.queueing(owners);
    const created = await this.ports.store.add(notifications, expireAt);
    void this.ports.markers.queueing(owners);
    const ownerOf = new Map(notifications.map((n) => [n.id, n.uid]));
    for (const item of created) this.ctx.io.to(userRoom(ownerOf.get(item.id)!)).emit("notification_new", item as NotificationItem);
  }
}

/** What a mention shows: the start of a text message, nothing of encrypted content or media. */
function mentionPreview(message: ChatMessage): string {
  if (message.encryptionLevel === "high") return "New encrypted message";
  if (message.type !== "text") return `New ${message.type}`;
  return message.content.slice(0, PREVIEW_CHARS);
}

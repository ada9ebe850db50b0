import type { ActivityEvent, ActivityLog, ClientContext } from "../ports/activity-log";
import { clientContextOf } from "../ports/activity-log/client-context";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

/**
 * The gateway's entries in the activity log (docs/HTTP-API.md), from the hooks: `login` when a socket
 * is admitted, `logout` when it leaves (with the session's duration), `message_sent` (conversation id
 * and message type, never the content) and `group_created`. One socket is one session. An anonymous
 * message leaves no entry: who sent what when must not be readable from the log.
 * Entries are buffered by the log: they never delay or fail the user's call.
 */
export function activityLogFeature(log: ActivityLog) {
  return (ctx: GatewayContext): GatewayFeature => new ActivityLogFeature(ctx, log);
}

class ActivityLogFeature implements GatewayFeature {
  readonly name = "activityLog";
  private readonly contexts = new WeakMap<GatewaySocket, ClientContext>();
  /** The context of each connected user's latest socket, for entries whose hook names no socket. */
  private readonly latest = new Map<string, { socket: GatewaySocket; context: ClientContext }>();

  constructor(
    ctx: GatewayContext,
    private readonly log: ActivityLog,
  ) {
    ctx.hooks.on("userConnected", ({ uid, socket, at }) => {
      const context = clientContextOf(socket.handshake.headers, { countryHeaders: ctx.config.activityCountryHeaders, regionHeaders: ctx.config.activityRegionHeaders });
      this.contexts.set(socket, context);
      this.latest.set(uid, { socket, context });
      this.record(uid, context, { action: "login", at: socket.data.connectedAt ?? at, metadata: { via: "socket" } });
    });
    ctx.hooks.on("userDisconnected", ({ uid, socket, reason, connectedAt, at }) => {
      const durationSeconds = Math.max(0, Math.round((at - connectedAt) / 1000));
      this.record(uid, this.contexts.get(socket), { action: "logout", at, metadata: { durationSeconds, sessionStartedAt: connectedAt, reason } });
      if (this.latest.get(uid)?.socket === socket) this.latest.delete(uid);
    });
    ctx.hooks.on("messageStored", ({ message, senderId, socket }) => {
      if (message.isAnonymous) return;
      const metadata = { conversationId: message.conversationId, type: message.type };
      this.record(senderId, this.contexts.get(socket), { action: "message_sent", at: message.createdAt, targetType: "conversation", targetId: message.conversationId, metadata });
    });
    ctx.hooks.on("conversationChanged", ({ conversation, created, by }) => {
      if (!created || conversation.type !== "group") return;
      const metadata = { members: conversation.members.length, announcement: conversation.announcement };
      this.record(by, this.latest.get(by)?.context, { action: "group_created", at: ctx.clock.now(), targetType: "conversation", targetId: conversation.id, metadata });
    });
  }

  figures() {
    return { activityLog: this.log.stats() };
  }

  private record(userId: string, context: ClientContext | undefined, entry: Omit<ActivityEvent, "userId">): void {
    this.log.record({ userId, ...context, ...entry });
  }
}

import type { ActivityEvent, ActivityLog, ClientContext } from "../ports/activity-log";
import { clientContextOf } from "../ports/activity-log/client-context";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

/**
 * The gateway's entries in the activity log: `login` when a socket is admitted, `logout` when it
 * leaves (with the session's duration), `message_sent` (conversation id and message type, never the
 * content) and `group_created` when those calls succeed. One socket is one session. An anonymous
 * message leaves no entry: who sent what when must not be readable from the log.
 *
 * Entries are buffered by the log and never delay or fail the user's call.
 * TODO(issue 10): listen to `ctx.hooks` (userConnected, userDisconnected, messageStored,
 * conversationChanged) once they land; until then successful calls are seen through their acks.
 */
export function activityLogFeature(log: ActivityLog) {
  return (ctx: GatewayContext): GatewayFeature => new ActivityLogFeature(ctx, log);
}

type Ack = (response: unknown) => void;
type Packet = [string, ...unknown[]];

class ActivityLogFeature implements GatewayFeature {
  readonly name = "activityLog";
  private readonly contexts = new WeakMap<GatewaySocket, ClientContext>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly log: ActivityLog,
  ) {}

  onConnection(socket: GatewaySocket): void {
    const context = clientContextOf(socket.handshake.headers, {
      countryHeaders: this.ctx.config.activityCountryHeaders,
      regionHeaders: this.ctx.config.activityRegionHeaders,
    });
    this.contexts.set(socket, context);
    this.record(socket, { action: "login", at: this.startOf(socket), metadata: { via: "socket" } });
    socket.use((packet, next) => {
      this.observe(socket, packet as unknown as Packet);
      next();
    });
  }

  onDisconnect(socket: GatewaySocket, reason: string): void {
    const at = this.ctx.clock.now();
    const startedAt = this.startOf(socket);
    const durationSeconds = Math.max(0, Math.round((at - startedAt) / 1000));
    this.record(socket, { action: "logout", at, metadata: { durationSeconds, sessionStartedAt: startedAt, reason } });
  }

  stats() {
    return { ...this.log.stats() };
  }

  /** Wraps the ack of the calls the log follows, to record them when they succeed. */
  private observe(socket: GatewaySocket, packet: Packet): void {
    const [event, payload] = packet;
    const last = packet.length - 1;
    const ack = packet[last];
    if (typeof ack !== "function" || (event !== "send_message" && event !== "create_group")) return;
    packet[last] = ((response: unknown) => {
      try {
        this.succeeded(socket, event, payload, response);
      } finally {
        (ack as Ack)(response);
      }
    }) as Ack;
  }

  private succeeded(socket: GatewaySocket, event: string, payload: unknown, response: unknown): void {
    const result = response as { ok?: boolean; duplicate?: boolean; conversationId?: string; conversation?: { id: string; members: string[]; announcement?: boolean } };
    if (!result || result.ok !== true) return;
    const at = this.ctx.clock.now();
    if (event === "send_message") {
      const sent = payload as { type?: unknown; isAnonymous?: unknown };
      if (result.duplicate || sent?.isAnonymous === true || !result.conversationId) return;
      const metadata = { conversationId: result.conversationId, type: typeof sent?.type === "string" ? sent.type : "text" };
      this.record(socket, { action: "message_sent", at, targetType: "conversation", targetId: result.conversationId, metadata });
    } else if (result.conversation) {
      const { id, members, announcement } = result.conversation;
      this.record(socket, { action: "group_created", at, targetType: "conversation", targetId: id, metadata: { members: members.length, announcement: !!announcement } });
    }
  }

  private record(socket: GatewaySocket, entry: Omit<ActivityEvent, "userId">): void {
    this.log.record({ userId: socket.data.uid, ...this.contexts.get(socket), ...entry });
  }

  private startOf(socket: GatewaySocket): number {
    return socket.data.connectedAt ?? this.ctx.clock.now();
  }
}

import type { Conversation } from "../ports/message-store";
import type { Logger } from "../ports/logger";
import type { ChatMessage, EmergencyBroadcastPayload } from "../protocol";
import type { GatewaySocket } from "./socket";

/**
 * What features learn of each other, declared once with their payloads (the way hocuspocus declares
 * its extension hooks). A feature emits a hook where the thing happens; any feature may listen.
 * Features never import each other: adding a listener or an emitter touches only the feature itself.
 */
export interface GatewayHookPayloads {
  /** A socket was admitted (after `auth_success`, before its features' handlers run). */
  userConnected: { uid: string; socket: GatewaySocket; at: number };
  /** A socket is gone, whatever the reason. */
  userDisconnected: { uid: string; socket: GatewaySocket; reason: string; connectedAt: number; at: number };
  /** A call that means a person is using the app (sending, typing, reading ...) succeeded its checks. */
  userAction: { uid: string; socket: GatewaySocket; event: string; at: number };
  /** A message is stored (and acked to its sender); `offline` are the recipients it was queued for. */
  messageStored: { message: ChatMessage; conversation: Conversation; senderId: string; offline: string[]; socket: GatewaySocket };
  /** A conversation was created or its members changed, by `by`. */
  conversationChanged: { conversation: Conversation; added: string[]; removed: string[]; created: boolean; by: string };
  /** A member's devices confirmed delivery in a conversation up to `upToSeq` (mark_delivered). */
  deliveryConfirmed: { uid: string; socket: GatewaySocket; conversationId: string; upToSeq: number };
  /** An emergency broadcast was emitted to this instance's sockets. */
  broadcastDelivered: { broadcast: EmergencyBroadcastPayload; at: number; uids: string[] };
  /** A call rang out unanswered (ringing timeout): `missedBy` are the callees who never answered. Emitted once, fleet-wide. */
  callMissed: { callId: string; callerId: string; conversationId: string | null; media: "audio" | "video"; missedBy: string[]; at: number };
  /** Missed emergency broadcasts were replayed to a user at admission (the live ones are `broadcastDelivered`). */
  broadcastReplayed: { broadcasts: EmergencyBroadcastPayload[]; uid: string; at: number };
  /** Issue 14: a member's readSeq moved forward (mark_read on any of its devices). */
  readAdvanced: { uid: string; socket: GatewaySocket; conversationId: string; readSeq: number };
  /** A socket was cut off for calling on while refused (session_ended CALL_FLOOD). */
  callFlood: { uid: string; socket: GatewaySocket; refused: number; at: number };
  /** The gateway's Redis connection failed (`up: false`, once per outage) or is back (`up: true`). */
  redisHealth: { up: boolean };
}

export type HookName = keyof GatewayHookPayloads;
export type HookListener<K extends HookName> = (payload: GatewayHookPayloads[K]) => void | Promise<void>;

/** The typed hook bus every feature is handed as `ctx.hooks`. */
export class GatewayHooks {
  private readonly listeners: { [K in HookName]?: Array<HookListener<K>> } = {};

  constructor(private readonly logger: Logger) {}

  /** Listens to a hook; returns the function that stops listening. */
  on<K extends HookName>(name: K, listener: HookListener<K>): () => void {
    const list = (this.listeners[name] ??= []) as Array<HookListener<K>>;
    list.push(listener);
    return () => list.splice(list.indexOf(listener) >>> 0, 1);
  }

  /**
   * Runs every listener; resolves once all asynchronous ones settled. A failing listener is logged,
   * never thrown to the emitter: one feature's fault cannot break another's call.
   */
  emit<K extends HookName>(name: K, payload: GatewayHookPayloads[K]): Promise<void> {
    const list = this.listeners[name] as Array<HookListener<K>> | undefined;
    if (!list || list.length === 0) return Promise.resolve();
    const pending: Array<Promise<void>> = [];
    for (const listener of list) {
      try {
        const result = listener(payload);
        if (result) pending.push(result.catch((error) => this.fail(name, error)));
      } catch (error) {
        this.fail(name, error);
      }
    }
    return pending.length === 0 ? Promise.resolve() : Promise.all(pending).then(() => undefined);
  }

  private fail(name: string, error: unknown): void {
    this.logger.error("hook listener failed", { hook: name, error: error instanceof Error ? error.stack : String(error) });
  }
}

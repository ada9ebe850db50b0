import { GatewayError } from "../errors";
import type { ConnectionSlots, SlotRef } from "../ports/connection-slots";
import { RateLimiter, requireWithinLimit } from "../ports/rate-limiter";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

export interface ConnectionBudgetPorts {
  slots: ConnectionSlots;
  rateLimiter: RateLimiter;
}

/** A slot not refreshed this long (its instance died) no longer counts; live sockets refresh theirs three times within it. */
export const SLOT_TTL_MS = 120_000;
/** Client events that keep a socket alive without meaning anyone uses it. */
const NOT_ACTIVITY = new Set(["heartbeat", "refresh_token"]);
/** The retryAfterMs of TOO_MANY_CONNECTIONS: a slot frees when one of the user's sockets closes. */
const FULL_RETRY_AFTER_MS = 30_000;

/**
 * Connection budgets (issue 12; docs/PROTOCOL.md "Connecting", docs/SECURITY.md):
 * - before the token check, at most `rateLimitMaxConnectionsPerIp` attempts per `rateLimitWindowMs` from one
 *   address (the peer address, or X-Forwarded-For's entry `trustProxy` places from the right);
 * - after it, at most `rateLimitMaxConnections` attempts per window by one user (both RATE_LIMITED + retryAfterMs);
 * - at most `maxSocketsPerUser` live sockets per user across every instance: the newest is refused with
 *   TOO_MANY_CONNECTIONS (the sockets already in use keep working);
 * - a socket that sends nothing but heartbeats for `maxIdleTimeMs` gets `session_ended { reason: "IDLE_TIMEOUT" }`.
 */
export function connectionBudgetFeature(ports: ConnectionBudgetPorts) {
  return (ctx: GatewayContext): GatewayFeature => new ConnectionBudget(ctx, ports);
}

class ConnectionBudget implements GatewayFeature {
  readonly name = "connection-budget";
  private readonly lastActivity = new WeakMap<GatewaySocket, number>();
  /** One listener for every socket (socket.io calls `onAny` listeners with the socket as `this`). */
  private readonly noteActivity = ((budget: ConnectionBudget) =>
    function (this: GatewaySocket, event: string) {
      if (!NOT_ACTIVITY.has(event)) budget.lastActivity.set(this, budget.ctx.clock.now());
    })(this);
  private readonly refreshTimer: NodeJS.Timeout;
  private readonly idleTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: ConnectionBudgetPorts,
  ) {
    // A flooder cut off would otherwise be back at once with a fresh refusal budget (issue 12, abuse run).
    ctx.hooks.on("callFlood", ({ uid }) => ports.rateLimiter.block(userAttemptsKey(uid), ctx.config.callFloodPenaltyMs));
    this.refreshTimer = setInterval(() => void this.refreshSlots(), SLOT_TTL_MS / 3);
    this.refreshTimer.unref();
    const idleMs = ctx.config.maxIdleTimeMs;
    if (idleMs > 0) {
      this.idleTimer = setInterval(() => this.endIdleSockets(), Math.min(60_000, Math.max(100, Math.floor(idleMs / 4))));
      this.idleTimer.unref();
    }
  }

  async screenHandshake(socket: GatewaySocket): Promise<void> {
    const { rateLimitMaxConnectionsPerIp: limit, rateLimitWindowMs: windowMs } = this.ctx.config;
    await this.withinRate(`connect_ip:${clientAddress(socket, this.ctx.config.trustProxy)}`, { limit, windowMs }, "connection attempts from this address");
  }

  async screen(socket: GatewaySocket): Promise<void> {
    const { rateLimitMaxConnections: limit, rateLimitWindowMs: windowMs, maxSocketsPerUser } = this.ctx.config;
    await this.withinRate(userAttemptsKey(socket.data.uid), { limit, windowMs }, "connection attempts by this account");
    const claim = await this.ports.slots.claim(slotOf(socket), maxSocketsPerUser, this.ctx.clock.now(), SLOT_TTL_MS);
    if (claim.admitted) return;
    this.ctx.logger.info("connection refused: too many sockets", { uid: socket.data.uid, live: claim.live });
    throw new GatewayError("TOO_MANY_CONNECTIONS", `At most ${maxSocketsPerUser} live connections per account; close one, or retry after retryAfterMs.`, {
      retryAfterMs: FULL_RETRY_AFTER_MS,
    });
  }

  abandon(socket: GatewaySocket): void {
    void this.ports.slots.release(slotOf(socket));
  }

  onConnection(socket: GatewaySocket): void {
    this.lastActivity.set(socket, this.ctx.clock.now());
    socket.onAny(this.noteActivity);
  }

  onDisconnect(socket: GatewaySocket): void {
    void this.ports.slots.release(slotOf(socket));
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearInterval(this.idleTimer);
  }

  private async withinRate(key: string, rule: { limit: number; windowMs: number }, what: string): Promise<void> {
    try {
      await requireWithinLimit(this.ports.rateLimiter, key, rule, what);
    } catch (error) {
      if (error instanceof GatewayError) throw new GatewayError(error.code, error.message, { retryAfterMs: error.data.retryAfterMs, reason: "CONNECTION_RATE" });
      throw error;
    }
  }

  private async refreshSlots(): Promise<void> {
    const refs = [...this.ctx.io.of("/").sockets.values()].map(slotOf);
    await this.ports.slots.refresh(refs, this.ctx.clock.now(), SLOT_TTL_MS).catch((error) => this.ctx.logger.warn("connection slots refresh failed", { error: String(error) }));
  }

  private endIdleSockets(): void {
    const idleBefore = this.ctx.clock.now() - this.ctx.config.maxIdleTimeMs;
    for (const socket of this.ctx.io.of("/").sockets.values()) {
      const last = this.lastActivity.get(socket);
      if (last === undefined || last > idleBefore || !socket.connected) continue;
      this.ctx.metrics.sessionsEnded.inc({ reason: "IDLE_TIMEOUT" });
      socket.emit("session_ended", { reason: "IDLE_TIMEOUT", message: "No activity for a long time; reconnect when the user is back." });
      socket.disconnect(true);
    }
  }
}

function slotOf(socket: GatewaySocket): SlotRef {
  return { uid: socket.data.uid, connId: socket.id };
}

/** The peer address, or with `trustedHops` proxies in front the X-Forwarded-For entry they appended (counted from the right). */
export function clientAddress(socket: Pick<GatewaySocket, "handshake">, trustedHops: number): string {
  const peer = socket.handshake.address;
  if (trustedHops === 0) return peer;
  const header = socket.handshake.headers["x-forwarded-for"];
  const entries = (Array.isArray(header) ? header.join(",") : header ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  return entries[entries.length - trustedHops] ?? entries[0] ?? peer;
}

function userAttemptsKey(uid: string): string {
  return `connect_user:${uid}`;
}

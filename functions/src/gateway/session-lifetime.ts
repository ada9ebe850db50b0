import { z } from "zod";
import { GatewayError } from "../errors";
import type { AccountStatePort } from "../ports/account-state/account-state";
import { MAX_LOOKUP_UIDS } from "../ports/account-state/account-state";
import type { TokenVerifier } from "../ports/token-verifier/token-verifier";
import type { SessionEndReason } from "../protocol";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

export interface SessionLifetimePorts {
  verifier: TokenVerifier;
  accounts: AccountStatePort;
}

const refreshSchema = z.object({ token: z.string().min(1).max(8_192) }).strict();

/**
 * A session ends when its account does (issue 11; docs/SECURITY.md "Session lifetime"):
 * - `token_expiring { expiresAt }` goes out `tokenExpiryLeadMs` before the ID token's `exp`; the client
 *   answers `refresh_token { token }` (same uid, re-verified; the socket's roles follow the new token);
 *   without one the socket gets `session_ended { reason: "TOKEN_EXPIRED" }` at `exp + tokenExpiryGraceMs`
 *   and is disconnected;
 * - every `sessionRecheckMs` the accounts of this instance's sockets are looked up (100 uids per call,
 *   at most `sessionRecheckCallsPerSecond` calls a second): disabled, deleted or revoked ones end with
 *   USER_DISABLED / USER_NOT_FOUND / TOKEN_REVOKED;
 * The admin kick (`POST /sessions/revoke`) is `Gateway.endSessions`, reached on every instance by the host.
 */
export function sessionLifetimeFeature(ports: SessionLifetimePorts) {
  return (ctx: GatewayContext): GatewayFeature => new SessionLifetime(ctx, ports);
}

class SessionLifetime implements GatewayFeature {
  readonly name = "session-lifetime";
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private recheck?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: SessionLifetimePorts,
  ) {
    this.recheck = setInterval(() => void this.recheckAll(), ctx.config.sessionRecheckMs);
    this.recheck.unref();
    ctx.calls.define("refresh_token", { schema: refreshSchema, handle: ({ token }, socket) => this.refresh(socket, token) });
  }

  onConnection(socket: GatewaySocket): void {
    this.schedule(socket);
  }

  onDisconnect(socket: GatewaySocket): void {
    this.clear(socket);
  }

  async stop(): Promise<void> {
    clearInterval(this.recheck);
    for (const timers of this.timers.values()) timers.forEach(clearTimeout);
    this.timers.clear();
  }

  private async refresh(socket: GatewaySocket, token: string): Promise<{ expiresAt: number | null }> {
    const identity = await this.ports.verifier.verify(token);
    if (identity.uid !== socket.data.uid) {
      setImmediate(() => this.end(socket, "TOKEN_INVALID", "refresh_token carried another user's token."));
      throw new GatewayError("PERMISSION_DENIED", "refresh_token: the token belongs to another user; this session ends.");
    }
    socket.data.roles = identity.roles;
    socket.data.expiresAt = identity.expiresAt;
    socket.data.authTime = identity.authTime;
    this.schedule(socket);
    return { expiresAt: identity.expiresAt ?? null };
  }

  private schedule(socket: GatewaySocket): void {
    this.clear(socket);
    const { expiresAt } = socket.data;
    if (!expiresAt) return;
    const { tokenExpiryLeadMs, tokenExpiryGraceMs } = this.ctx.config;
    const now = this.ctx.clock.now();
    const warnIn = Math.max(0, expiresAt - tokenExpiryLeadMs - now);
    const endIn = Math.max(0, expiresAt + tokenExpiryGraceMs - now);
    const warn = setTimeout(() => socket.emit("token_expiring", { expiresAt }), warnIn);
    const end = setTimeout(() => this.end(socket, "TOKEN_EXPIRED", "The ID token expired and was not refreshed (refresh_token)."), endIn);
    warn.unref();
    end.unref();
    this.timers.set(socket.id, [warn, end]);
  }

  private clear(socket: GatewaySocket): void {
    this.timers.get(socket.id)?.forEach(clearTimeout);
    this.timers.delete(socket.id);
  }

  private end(socket: GatewaySocket, reason: SessionEndReason, message: string): void {
    if (!socket.connected) return;
    this.ctx.metrics.sessionsEnded.inc({ reason });
    this.ctx.logger.info("session ended", { uid: socket.data.uid, reason });
    socket.emit("session_ended", { reason, message });
    socket.disconnect(true);
  }

  /** One pass over this instance's sockets, in batches of 100 uids, paced to the configured calls per second. */
  private async recheckAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const byUid = new Map<string, GatewaySocket[]>();
      for (const socket of this.ctx.io.of("/").sockets.values()) if (socket.data.uid) byUid.set(socket.data.uid, [...(byUid.get(socket.data.uid) ?? []), socket]);
      const uids = [...byUid.keys()];
      const pauseMs = 1_000 / this.ctx.config.sessionRecheckCallsPerSecond;
      for (let i = 0; i < uids.length; i += MAX_LOOKUP_UIDS) {
        if (i > 0) await new Promise((r) => setTimeout(r, pauseMs));
        const batch = uids.slice(i, i + MAX_LOOKUP_UIDS);
        const states = await this.ports.accounts.lookup(batch).catch((error) => {
          this.ctx.logger.warn("session re-verification failed", { error: String(error) });
          return undefined;
        });
        if (states) for (const uid of batch) for (const socket of byUid.get(uid) ?? []) this.judge(socket, states.get(uid));
      }
    } finally {
      this.checking = false;
    }
  }

  private judge(socket: GatewaySocket, state: { disabled: boolean; tokensValidAfter: number | null } | undefined): void {
    if (!state) return this.end(socket, "USER_NOT_FOUND", "This account no longer exists.");
    if (state.disabled) return this.end(socket, "USER_DISABLED", "This account is disabled.");
    const authTime = socket.data.authTime;
    if (state.tokensValidAfter !== null && authTime !== undefined && authTime < state.tokensValidAfter) {
      this.end(socket, "TOKEN_REVOKED", "This session's tokens were revoked; sign in again.");
    }
  }
}

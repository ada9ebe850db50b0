import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors";
import { authFailure } from "../ports/token-verifier/firebase-token-verifier";
import type { TokenVerifier } from "../ports/token-verifier/token-verifier";
import type { Logger } from "../ports/logger";
import type { Clock } from "../ports/clock";
import type { GatewaySocket } from "./types";

type Next = (err?: Error) => void;

/**
 * `io.use` middleware: admits a socket only with a valid Firebase ID token, taken from the handshake's
 * `auth.token`, an `Authorization: Bearer` header, or (only with `allowTokenInQuery`, since proxies log
 * URLs) a `token` query parameter, in that order. Tokens are never logged.
 * A refusal reaches the client as `connect_error` with `err.data = { code, reason, message }`.
 */
export function createAuthMiddleware(deps: {
  verifier: TokenVerifier;
  logger: Logger;
  clock: Clock;
  isAdmitting: () => boolean;
  /** Counts a refusal by reason (metrics). */
  refused?: (reason: string) => void;
  /** config `allowTokenInQuery`: accept `?token=` (off by default). */
  allowTokenInQuery?: boolean;
}) {
  return async (socket: GatewaySocket, next: Next) => {
    if (!deps.isAdmitting()) {
      deps.refused?.("NOT_ADMITTING");
      return next(new GatewayError("UNAVAILABLE", "The gateway is not admitting connections; reconnect later."));
    }
    const token = tokenFromHandshake(socket.handshake, { allowQuery: deps.allowTokenInQuery });
    if (!token) {
      deps.refused?.("TOKEN_MISSING");
      return next(authFailure("TOKEN_MISSING"));
    }
    try {
      const identity = await deps.verifier.verify(token);
      // Only what the gateway reads: keeping the whole decoded token on every socket costs memory per connection.
      socket.data = { uid: identity.uid, roles: identity.roles, connectedAt: deps.clock.now(), expiresAt: identity.expiresAt, authTime: identity.authTime };
      next();
    } catch (error) {
      const refusal = GatewayError.from(error);
      deps.refused?.(refusal.data.reason ?? refusal.code);
      if (refusal.code === "INTERNAL") deps.logger.error("token verification failed", { error: String(error) });
      else deps.logger.info("connection refused", { reason: refusal.data.reason, address: socket.handshake.address });
      next(refusal);
    }
  };
}

export function tokenFromHandshake(handshake: {
  auth: Record<string, unknown>;
  headers: IncomingMessage["headers"];
  query: Record<string, unknown>;
}, options: { allowQuery?: boolean } = {}): string | undefined {
  const fromAuth = handshake.auth?.token;
  if (typeof fromAuth === "string" && fromAuth.trim()) return fromAuth.trim();
  const header = handshake.headers?.authorization;
  const bearer = typeof header === "string" ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined;
  if (bearer) return bearer;
  if (!options.allowQuery) return undefined;
  const fromQuery = handshake.query?.token;
  if (typeof fromQuery === "string" && fromQuery.trim()) return fromQuery.trim();
  return undefined;
}

// Generated from functions/src/errors.ts by client/scripts/sync-protocol.mjs; do not edit (edit the source, then npm run sync-protocol).
/**
 * Every error a client can see, one table. `code` is stable and what clients branch on;
 * `message` is the default human text (a call may give a more precise one).
 */
export const ErrorCodes = {
  UNAUTHENTICATED: { code: "UNAUTHENTICATED", message: "A valid Firebase ID token is required." },
  PERMISSION_DENIED: { code: "PERMISSION_DENIED", message: "You are not allowed to do this." },
  INVALID_ARGUMENT: { code: "INVALID_ARGUMENT", message: "The request is malformed." },
  NOT_FOUND: { code: "NOT_FOUND", message: "No such resource." },
  RATE_LIMITED: { code: "RATE_LIMITED", message: "Too many requests; retry later." },
  PAYLOAD_TOO_LARGE: { code: "PAYLOAD_TOO_LARGE", message: "The payload is larger than allowed." },
  TOO_MANY_CONNECTIONS: { code: "TOO_MANY_CONNECTIONS", message: "This account has as many live connections as allowed; close one, or retry after retryAfterMs." },
  UNAVAILABLE: { code: "UNAVAILABLE", message: "The service is unavailable; retry later." },
  INTERNAL: { code: "INTERNAL", message: "Internal error." },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/**
 * Why a connection was refused, carried beside `code: "UNAUTHENTICATED"` in `connect_error`'s `data.reason`
 * so a client can tell "refresh the token and retry" (TOKEN_EXPIRED) from "sign the user out" (TOKEN_REVOKED).
 */
export const AuthFailureReasons = {
  TOKEN_MISSING: "No ID token was presented (handshake auth.token, Authorization: Bearer, or ?token=).",
  TOKEN_MALFORMED: "The ID token could not be decoded.",
  TOKEN_EXPIRED: "The ID token has expired; get a fresh one and reconnect.",
  TOKEN_REVOKED: "The ID token was revoked; sign in again.",
  TOKEN_WRONG_PROJECT: "The ID token was issued for another Firebase project.",
  TOKEN_INVALID: "The ID token is not valid.",
  USER_DISABLED: "This account is disabled.",
  USER_NOT_FOUND: "This account no longer exists.",
} as const;

export type AuthFailureReason = keyof typeof AuthFailureReasons;

/** Error details as clients receive them, in acks and in `connect_error`'s `data`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  reason?: string;
  retryAfterMs?: number;
}

/** The one error class of the gateway: a code from ErrorCodes plus optional detail. */
export class GatewayError extends Error {
  readonly data: ErrorBody;

  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code].message,
    extra: { reason?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.data = { code, message, ...extra };
  }

  static from(error: unknown): GatewayError {
    if (error instanceof GatewayError) return error;
    return new GatewayError("INTERNAL");
  }
}

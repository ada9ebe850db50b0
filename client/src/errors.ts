import type { ErrorBody, ErrorCode } from "./generated/errors.js";

/** A refusal from the gateway (its stable `code`), or a call that got no answer (`UNAVAILABLE`). */
export class TalowaError extends Error {
  readonly code: ErrorCode;
  readonly reason?: string;
  readonly retryAfterMs?: number;

  constructor(body: ErrorBody) {
    super(body.message);
    this.name = "TalowaError";
    this.code = body.code;
    this.reason = body.reason;
    this.retryAfterMs = body.retryAfterMs;
  }

  static unavailable(message: string): TalowaError {
    return new TalowaError({ code: "UNAVAILABLE", message });
  }
}

/** Codes worth another try with the same payload (a send keeps its clientId). */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["UNAVAILABLE", "RATE_LIMITED", "INTERNAL"]);

/** connect_error / error reasons after which the user must sign in again. */
export const SIGN_OUT_REASONS: ReadonlySet<string> = new Set(["TOKEN_REVOKED", "USER_DISABLED", "USER_NOT_FOUND"]);
/** Reasons no retry cures: a bug or a misconfigured app. */
export const FATAL_REASONS: ReadonlySet<string> = new Set(["TOKEN_MISSING", "TOKEN_MALFORMED", "TOKEN_WRONG_PROJECT"]);

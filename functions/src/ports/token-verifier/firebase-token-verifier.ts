import type { Auth } from "firebase-admin/auth";
import { AuthFailureReason, AuthFailureReasons, GatewayError } from "../../errors";
import { rolesFromClaims, TokenVerifier, VerifiedIdentity } from "./token-verifier";

/** Verifies Firebase ID tokens with firebase-admin (production keys, or the Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set). */
export class FirebaseTokenVerifier implements TokenVerifier {
  constructor(
    private readonly auth: Auth,
    private readonly checkRevoked: boolean,
  ) {}

  async verify(idToken: string): Promise<VerifiedIdentity> {
    try {
      const decoded = await this.auth.verifyIdToken(idToken, this.checkRevoked);
      return { uid: decoded.uid, roles: rolesFromClaims(decoded as Record<string, unknown>), expiresAt: decoded.exp * 1000, authTime: decoded.auth_time * 1000 };
    } catch (error) {
      throw authFailure(reasonOf(error));
    }
  }
}

export function authFailure(reason: AuthFailureReason): GatewayError {
  return new GatewayError("UNAUTHENTICATED", AuthFailureReasons[reason], { reason });
}

function reasonOf(error: unknown): AuthFailureReason {
  const { code = "", message = "" } = (error ?? {}) as { code?: string; message?: string };
  switch (code) {
    case "auth/id-token-expired":
      return "TOKEN_EXPIRED";
    case "auth/id-token-revoked":
      return "TOKEN_REVOKED";
    case "auth/user-disabled":
      return "USER_DISABLED";
    case "auth/user-not-found":
      return "USER_NOT_FOUND";
  }
  if (/"aud"|"iss"/.test(message)) return "TOKEN_WRONG_PROJECT";
  if (/decod|must be a non-empty string|JWT|jwt/i.test(message)) return "TOKEN_MALFORMED";
  return "TOKEN_INVALID";
}

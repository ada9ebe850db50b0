/** Who a verified ID token belongs to. */
export interface VerifiedIdentity {
  uid: string;
  /** Roles from custom claims (`role`, `roles`, `admin: true`); every user is at least a `member`. */
  roles: string[];
  /** ms since epoch: the token's `exp` and `auth_time` (when the verifier knows them). */
  expiresAt?: number;
  authTime?: number;
}

/** The token verification port: resolves an identity or rejects with GatewayError(UNAUTHENTICATED, reason). */
export interface TokenVerifier {
  verify(idToken: string): Promise<VerifiedIdentity>;
}

export function rolesFromClaims(claims: Record<string, unknown>): string[] {
  const roles = new Set<string>(["member"]);
  if (typeof claims.role === "string") roles.add(claims.role);
  if (Array.isArray(claims.roles)) for (const r of claims.roles) if (typeof r === "string") roles.add(r);
  if (claims.admin === true) roles.add("admin");
  return [...roles];
}

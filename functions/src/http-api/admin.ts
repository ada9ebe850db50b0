import type { GatewayConfig } from "../config";
import type { VerifiedIdentity } from "../ports/token-verifier/token-verifier";

/** The same admin check as `websocketServer`: a role of `CONTROL_ROLES` (custom claims `admin: true`, `role` or `roles`). */
export function isApiAdmin(config: GatewayConfig, identity: VerifiedIdentity): boolean {
  return identity.roles.some((role) => config.controlRoles.includes(role));
}

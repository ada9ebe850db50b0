import { CONTROL_ROLES } from "../control/control-handler";
import type { VerifiedIdentity } from "../ports/token-verifier/token-verifier";

/** The same admin check as `websocketServer`: custom claims `admin: true`, `role: "admin"` or `roles: ["admin"]`. */
export function isApiAdmin(identity: VerifiedIdentity): boolean {
  return identity.roles.some((role) => CONTROL_ROLES.includes(role));
}

import { z } from "zod";
import { GatewayError } from "../errors";
import type { AccountStatePort } from "../ports/account-state/account-state";
import type { Logger } from "../ports/logger";
import type { GatewayHost } from "./gateway-host";

const revokeBody = z.object({ uid: z.string().min(1).max(128) }).strict();

/**
 * `POST /sessions/revoke { uid }` (admin ID token): revokes the user's refresh tokens (Admin SDK), so no
 * new ID token can be minted, then ends every live session of that uid on every gateway instance.
 */
export async function revokeSessions(deps: { host: GatewayHost; accounts?: AccountStatePort; logger: Logger }, by: string, raw: unknown) {
  let value = raw;
  if (typeof raw === "string" || Buffer.isBuffer(raw)) {
    try {
      value = JSON.parse(raw.toString());
    } catch {
      throw new GatewayError("INVALID_ARGUMENT", "The body must be JSON: { uid }.");
    }
  }
  const parsed = revokeBody.safeParse(value ?? {});
  if (!parsed.success) throw new GatewayError("INVALID_ARGUMENT", `Invalid request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}.`);
  const { uid } = parsed.data;
  if (!deps.accounts) throw new GatewayError("UNAVAILABLE", "No account service is configured to revoke tokens.");
  await deps.accounts.revoke(uid).catch((error) => {
    if ((error as { code?: string }).code === "auth/user-not-found") throw new GatewayError("NOT_FOUND", "No such user.");
    throw new GatewayError("UNAVAILABLE", `Firebase Auth did not revoke the tokens: ${(error as Error).message}`);
  });
  const { ended, instances } = await deps.host.endSessions(uid);
  deps.logger.info("control: sessions revoked", { by, uid, ended, instances });
  return { uid, tokensRevoked: true, ended, instances };
}

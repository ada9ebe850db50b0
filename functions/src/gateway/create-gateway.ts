import { GatewayConfig, resolveConfig } from "../config";
import { firebaseAuth } from "../firebase";
import type { Logger } from "../ports/logger";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import { Gateway, GatewayDeps } from "./gateway";

/**
 * Builds a gateway wired to its real adapters: firebase-admin token verification, and the stores the
 * config names. Hosts call this; tests may build `Gateway` directly with other ports.
 */
export function createGateway(overrides: Partial<GatewayConfig>, options: { logger?: Logger } & Partial<GatewayDeps> = {}): Gateway {
  const config = resolveConfig(overrides);
  const verifier = options.verifier ?? new FirebaseTokenVerifier(firebaseAuth(config.projectId), config.checkRevoked);
  return new Gateway(config, { ...options, verifier });
}

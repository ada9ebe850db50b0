import { GatewayConfig, resolveConfig } from "../config";
import { firebaseAuth } from "../firebase";
import { Logger, silentLogger } from "../ports/logger";
import { createRedisConnection } from "../ports/redis-connection";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import { Gateway, GatewayDeps } from "./gateway";
import type { GatewayContext, GatewayFeature } from "./types";

export type CreateGatewayOptions = { logger?: Logger } & Partial<GatewayDeps>;

/**
 * Builds a gateway wired to its real adapters: firebase-admin token verification, one Redis connection
 * when the config names Redis, and every feature (messaging, presence ...). Hosts call this; tests may
 * build `Gateway` directly with other ports.
 */
export function createGateway(overrides: Partial<GatewayConfig>, options: CreateGatewayOptions = {}): Gateway {
  const config = resolveConfig(overrides);
  const logger = options.logger ?? silentLogger;
  const verifier = options.verifier ?? new FirebaseTokenVerifier(firebaseAuth(config.projectId), config.checkRevoked);
  const redis = config.redisUrl ? createRedisConnection(config.redisUrl, logger, "talowa-gateway") : undefined;
  const features: Array<(ctx: GatewayContext) => GatewayFeature> = [...(options.features ?? [])];
  const closers = [...(options.closers ?? []), () => redis?.quit().catch(() => redis.disconnect())];
  return new Gateway(config, { ...options, logger, verifier, features, closers });
}

import { createShardedAdapter } from "@socket.io/redis-adapter";
import { GatewayConfig, resolveConfig } from "../config";
import { firebaseAuth } from "../firebase";
import { Logger, silentLogger } from "../ports/logger";
import { createRedisConnection } from "../ports/redis-connection";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import { Gateway, GatewayDeps } from "./gateway";
import type { GatewayContext, GatewayFeature, GatewayServices } from "./types";

export type CreateGatewayOptions = { logger?: Logger } & Partial<GatewayDeps>;

/**
 * Builds a gateway wired to its real adapters: firebase-admin token verification, Redis (one command
 * connection for the stores, plus the sharded Socket.IO adapter so events reach sockets on every
 * instance) when the config names Redis, and every feature (messaging, presence ...).
 * Hosts call this; tests may build `Gateway` directly with other ports.
 */
export function createGateway(overrides: Partial<GatewayConfig>, options: CreateGatewayOptions = {}): Gateway {
  const config = resolveConfig(overrides);
  const logger = options.logger ?? silentLogger;
  const verifier = options.verifier ?? new FirebaseTokenVerifier(firebaseAuth(config.projectId), config.checkRevoked);
  const closers = [...(options.closers ?? [])];
  const services: GatewayServices = { ...options.services };
  const features: Array<(ctx: GatewayContext) => GatewayFeature> = [...(options.features ?? [])];
  let adapter = options.adapter;

  if (config.redisUrl) {
    const redis = createRedisConnection(config.redisUrl, logger, "talowa-gateway");
    const pub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-pub");
    const sub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-sub", { queueWhileDown: true });
    // One channel per public room: an instance receives only the traffic of rooms it holds (see docs/SCALING.md).
    adapter ??= createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" });
    closers.push(() => Promise.all([redis, pub, sub].map((c) => c.quit().catch(() => c.disconnect()))));
    void redis;
  }

  return new Gateway(config, { ...options, logger, verifier, features, closers, adapter, services });
}

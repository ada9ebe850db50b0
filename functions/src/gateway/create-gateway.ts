import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type Redis from "ioredis";
import { EventEmitter } from "node:events";
import { GatewayConfig, resolveConfig } from "../config";
import { firebaseAuth, firestore } from "../firebase";
import { systemClock } from "../ports/clock";
import { createMessageStore, MessageStore } from "../ports/message-store";
import { RateLimiterFacade } from "../ports/rate-limiter";
import { SequenceFacade } from "../ports/sequence";
import { FirestoreSequenceAllocator } from "../ports/sequence/firestore-sequence-allocator";
import { MemorySequenceAllocator } from "../ports/sequence/memory-sequence-allocator";
import { FirebaseUserDirectory } from "../ports/user-directory/firebase-user-directory";
import { messagingFeatures } from "./messaging/messaging";
import { FirestoreBroadcastStore } from "../ports/broadcast-store/firestore-broadcast-store";
import { MemoryBroadcastStore } from "../ports/broadcast-store/memory-broadcast-store";
import { activityFeature } from "./activity";
import { emergencyBroadcastsFeature } from "./emergency-broadcasts";
import { instanceRegistryFeature } from "./instance-registry";
import { Logger, silentLogger } from "../ports/logger";
import { createRedisConnection } from "../ports/redis-connection";
import { createRoutedLedger } from "../ports/routed-ledger";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import { Gateway, GatewayDeps } from "./gateway";
import { createPresenceDeps, presenceFeature } from "./presence";
import { userLookupFeature } from "./user-lookup";
import type { GatewayContext, GatewayFeature, GatewayServices } from "./types";

export type CreateGatewayOptions = {
  logger?: Logger;
  /** Replaces the store the config names (tests wrap the real one to inject failures). */
  messageStore?: (real: MessageStore) => MessageStore;
} & Partial<GatewayDeps>;

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
  let redis: Redis | undefined;

  if (config.redisUrl) {
    redis = createRedisConnection(config.redisUrl, logger, "talowa-gateway");
    const pub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-pub");
    const sub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-sub", { queueWhileDown: true });
    // One channel per public room: an instance receives only the traffic of rooms it holds (see docs/SCALING.md).
    // The classic adapter (every instance receives every broadcast) exists only for comparison measurements.
    adapter ??= config.adapter === "classic" ? createAdapter(pub, sub) : createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" });
    services.events ??= redisHealthEvents(redis);
    const connections = [redis, pub, sub];
    closers.push(() => Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect()))));
    // --- control: fleet registry and commands ---
    const fleetSub = createRedisConnection(config.redisUrl, logger, "talowa-fleet-sub", { queueWhileDown: true });
    features.push(instanceRegistryFeature({ redis, subscriber: fleetSub, gateway: () => gateway, broadcasts: () => services.broadcasts, publicUrl: process.env.PUBLIC_URL }));
    closers.push(() => fleetSub.quit().catch(() => fleetSub.disconnect()));
  }
  // --- control: emergency broadcasts, idle tracking ---
  const broadcastStore = config.messageStore === "firestore" ? new FirestoreBroadcastStore(firestore(config.projectId)) : new MemoryBroadcastStore();
  features.push(emergencyBroadcastsFeature(broadcastStore, (delivery) => (services.broadcasts = delivery)), activityFeature);

  const clock = options.clock ?? systemClock;
  const realStore = createMessageStore(config.messageStore, {
    projectId: config.projectId,
    queueRetentionMs: config.offlineRetentionDays * 86_400_000,
  });
  const store = options.messageStore ? options.messageStore(realStore) : realStore;
  const sequenceFallback =
    store.kind === "firestore" ? new FirestoreSequenceAllocator(firestore(config.projectId)) : new MemorySequenceAllocator();
  const rateLimiter = new RateLimiterFacade(clock, redis);
  const users = new FirebaseUserDirectory(firebaseAuth(config.projectId));
  features.push(
    ...messagingFeatures({
      store,
      sequences: new SequenceFacade(sequenceFallback, logger, redis),
      rateLimiter,
      users,
      routed: createRoutedLedger(redis),
    }),
  );
  // --- directory: find a user by email, display names ---
  features.push(userLookupFeature({ users, rateLimiter }));

  // --- presence ---
  const presence = createPresenceDeps(config, redis, logger, clock, store);
  features.push(presenceFeature(presence));
  services.online ??= presence.store;

  const gateway = new Gateway(config, { ...options, logger, clock, verifier, features, closers, adapter, services });
  return gateway;
}

/** Turns the connection's error/ready churn into one "redis-down" per outage and one "redis-up" after it. */
function redisHealthEvents(redis: Redis): EventEmitter {
  const events = new EventEmitter();
  let down = false;
  redis.on("error", () => {
    if (!down) events.emit("redis-down");
    down = true;
  });
  redis.on("ready", () => {
    if (down) events.emit("redis-up");
    down = false;
  });
  return events;
}

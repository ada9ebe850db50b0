import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import type { ServerOptions } from "socket.io";
import { GatewayConfig, resolveConfig } from "../config";
import { firebaseApp, firebaseAuth, firestore } from "../firebase";
import { createActivityLog } from "../ports/activity-log";
import { getMessaging } from "firebase-admin/messaging";
import { FirestoreDeviceRegistry } from "../ports/device-registry/firestore-device-registry";
import { MemoryDeviceRegistry } from "../ports/device-registry/memory-device-registry";
import { FcmPushSender } from "../ports/push-sender/fcm-push-sender";
import { PushDispatcher } from "../ports/push-sender/push-dispatcher";
import type { PushSender } from "../ports/push-sender/push-sender";
import { pushFeature } from "./push";
import { createCallState } from "../ports/call-state";
import { callSignalingFeature } from "./call-signaling";
import { FirestoreNotificationStore, MemoryNotificationStore } from "../ports/notification-store";
import { notificationsFeature } from "./notifications";
import { FirestoreBroadcastReceipts } from "../ports/broadcast-receipts/firestore-broadcast-receipts";
import { MemoryBroadcastReceipts } from "../ports/broadcast-receipts/memory-broadcast-receipts";
import { CachedBlockList, FirestoreBlockList, MemoryBlockList } from "../ports/block-list";
import { FirestoreBroadcastStore } from "../ports/broadcast-store/firestore-broadcast-store";
import { MemoryBroadcastStore } from "../ports/broadcast-store/memory-broadcast-store";
import { Clock, systemClock } from "../ports/clock";
import { StoreContactDirectory } from "../ports/contact-directory/store-contact-directory";
import { Logger, silentLogger } from "../ports/logger";
import { createMessageStore, MessageStore } from "../ports/message-store";
import { coalesceConversationsOf } from "../ports/message-store/coalesced-store";
import { createPresenceStore } from "../ports/presence-store";
import { createQueueMarkers } from "../ports/queue-markers";
import { RateLimiterFacade } from "../ports/rate-limiter";
import { createRedisConnection } from "../ports/redis-connection";
import { createRoutedLedger } from "../ports/routed-ledger";
import { SequenceFacade } from "../ports/sequence";
import { FirestoreSequenceAllocator } from "../ports/sequence/firestore-sequence-allocator";
import { MemorySequenceAllocator } from "../ports/sequence/memory-sequence-allocator";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import type { TokenVerifier } from "../ports/token-verifier/token-verifier";
import type { AccountStatePort } from "../ports/account-state/account-state";
import { FirebaseAccountState } from "../ports/account-state/firebase-account-state";
import { sessionLifetimeFeature } from "./session-lifetime";
import { FirebaseUserDirectory } from "../ports/user-directory/firebase-user-directory";
import { BatchedUserRecords } from "../ports/user-records/batched-user-records";
import { CachedUserRecords } from "../ports/user-records/cached-user-records";
import { MemoryUserRecords } from "../ports/user-records/memory-user-records";
import type { UserRecords } from "../ports/user-records/user-records";
import { ConnectionSlotsFacade } from "../ports/connection-slots";
import { CachedPresencePrivacy, FirestorePresencePrivacy, MemoryPresencePrivacy } from "../ports/presence-privacy";
import { activityFeature } from "./activity";
import { connectionBudgetFeature } from "./connection-budget";
import { activityLogFeature } from "./activity-log";
import { backpressureFeature } from "./backpressure";
import { emergencyBroadcastsFeature } from "./emergency-broadcasts";
import { Gateway } from "./gateway";
import { heartbeatFeature } from "./heartbeat";
import { instanceRegistryFeature } from "./instance-registry";
import { activeMembersFeature } from "./messaging/active-members";
import { blockingFeature } from "./messaging/blocking";
import { conversationEventsFeature } from "./messaging/conversation-events";
import { reactionsFeature } from "./messaging/reactions";
import { conversationListFeature } from "./messaging/conversation-list";
import { ConversationDirectory } from "./messaging/conversation-directory";
import { groupsFeature } from "./messaging/groups";
import { ConsentPolicy, invitationsFeature } from "./messaging/consent";
import { FirestoreConsentStore, MemoryConsentStore } from "../ports/consent";
import { historyFeature } from "./messaging/history";
import { offlineQueueFeature } from "./messaging/offline-queue";
import { receiptsFeature } from "./messaging/receipts";
import { sendingFeature } from "./messaging/sending";
import { typingFeature } from "./messaging/typing";
import { presenceFeature } from "./presence";
import { userLookupFeature } from "./user-lookup";
import type { FeatureFactory, GatewayContext } from "./types";

export interface CreateGatewayOptions {
  logger?: Logger;
  clock?: Clock;
  /** Replaces Firebase Auth token verification (tests of the auth middleware). */
  verifier?: TokenVerifier;
  /** Replaces Firebase Auth account lookups (session re-verification). */
  accounts?: AccountStatePort;
  /** Wraps the store the config names (tests wrap the real one to inject failures). */
  messageStore?: (real: MessageStore) => MessageStore;
  /** Replaces the push sender the config names (tests: a recording sender, since FCM has no emulator). */
  pushSender?: PushSender;
  /** Extra features after the standard ones (tests, embedding hosts). */
  features?: FeatureFactory[];
}

/**
 * The composition root: the one place that builds every adapter from the config (Firebase Auth,
 * Firestore or memory stores, Redis connections and the sharded Socket.IO adapter) and hands each
 * feature the ports it needs. Hosts call this; features never build adapters or read the environment.
 */
export function createGateway(overrides: Partial<GatewayConfig>, options: CreateGatewayOptions = {}): Gateway {
  const config = resolveConfig(overrides);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const redis = config.redisUrl ? redisConnections(config, logger) : undefined;
  const ports = storePorts(config, logger, clock, redis?.commands, options);

  const verifier = options.verifier ?? new FirebaseTokenVerifier(firebaseAuth(config.projectId), config.checkRevoked);
  const accounts = options.accounts ?? new FirebaseAccountState(firebaseAuth(config.projectId));
  const conversations = perGateway((ctx) => new ConversationDirectory(ctx, { store: ports.store, users: ports.users }));
  const consent = perGateway((ctx) => new ConsentPolicy(ctx, { store: ports.store, consent: ports.consent }));
  const features: FeatureFactory[] = [
    connectionBudgetFeature({ slots: ports.slots, rateLimiter: ports.rateLimiter }),
    heartbeatFeature,
    backpressureFeature,
    activityFeature,
    offlineQueueFeature({ store: ports.store, conversations, markers: ports.markers }),
    sendingFeature({ store: ports.store, rateLimiter: ports.rateLimiter, sequences: ports.sequences, routed: ports.routed, online: ports.presence, markers: ports.markers, conversations, blocks: ports.blocks, consent }),
    receiptsFeature({ store: ports.store, conversations }),
    historyFeature({ store: ports.store, conversations, consent: ports.consent }),
    groupsFeature({ store: ports.store, conversations, blocks: ports.blocks, consent }),
    invitationsFeature({ store: ports.store, consent: ports.consent, conversations }, consent),
    typingFeature({ conversations }),
    presenceFeature({ store: ports.presence, contacts: ports.contacts, records: ports.records, blocks: ports.blocks, privacy: ports.privacy }),
    // --- conversation features (issue 14) ---
    blockingFeature({ blocks: ports.blocks, conversations }),
    activeMembersFeature({ presence: ports.presence, blocks: ports.blocks, conversations }),
    conversationListFeature({ store: ports.store, presence: ports.presence, records: ports.records, blocks: ports.blocks }),
    reactionsFeature({ store: ports.store, conversations, blocks: ports.blocks }),
    conversationEventsFeature({ store: ports.store, sequences: ports.sequences, online: ports.presence, markers: ports.markers, conversations, blocks: ports.blocks }),
    emergencyBroadcastsFeature(ports.broadcasts, ports.broadcastReceipts),
    pushFeature({ devices: ports.devices, push: ports.push }),
    // --- reach: call signaling (issue 15) ---
    callSignalingFeature({ calls: ports.calls, store: ports.store, conversations, blocks: ports.blocks, online: ports.presence, push: ports.push }),
    notificationsFeature({ store: ports.notifications, blocks: ports.blocks, markers: ports.notificationMarkers }),
    // --- directory: find a user by email, display names (client apps) ---
    userLookupFeature({ users: ports.users }),
    sessionLifetimeFeature({ verifier, accounts }),
    ...(redis ? [instanceRegistryFeature({ redis: redis.commands, subscriber: redis.fleet })] : []),
    ...(ports.activity ? [activityLogFeature(ports.activity)] : []),
    ...(options.features ?? []),
  ];

  return new Gateway(config, {
    verifier,
    rateLimiter: ports.rateLimiter,
    logger,
    clock,
    features,
    adapter: redis?.adapter,
    watchRedis: redis ? (report) => watchHealth(redis.commands, report) : undefined,
    beforeListen: redis ? () => untilReady(redis.commands, REDIS_READY_WAIT_MS) : undefined,
    closers: [
      // After the last socket left, so every logout is written.
      ...(ports.activity ? [() => ports.activity!.stop()] : []),
      () => ports.records.flush?.(),
      ...(redis ? [() => Promise.all(redis.all.map((c) => c.quit().catch(() => c.disconnect())))] : []),
    ],
  });
}

/** One command connection for the stores (fail fast), the adapter's pair, and a subscriber for fleet commands. */
function redisConnections(config: GatewayConfig, logger: Logger) {
  const commands = createRedisConnection(config.redisUrl, logger, "talowa-gateway");
  const pub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-pub");
  const sub = createRedisConnection(config.redisUrl, logger, "talowa-adapter-sub", { queueWhileDown: true });
  const fleet = createRedisConnection(config.redisUrl, logger, "talowa-fleet-sub", { queueWhileDown: true });
  // One channel per public room: an instance receives only the traffic of rooms it holds (see docs/SCALING.md).
  // The classic adapter (every instance receives every broadcast) exists only for comparison measurements.
  const adapter: ServerOptions["adapter"] =
    config.adapter === "classic" ? createAdapter(pub, sub) : createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" });
  return { commands, fleet, adapter, all: [commands, pub, sub, fleet] };
}

/** The stores and directories, on Firestore (and Redis where shared state lives) or in memory. */
function storePorts(config: GatewayConfig, logger: Logger, clock: Clock, redis: Redis | undefined, options: CreateGatewayOptions) {
  const onFirestore = config.messageStore === "firestore";
  const db = onFirestore ? firestore(config.projectId) : undefined;
  const realStore = createMessageStore(config.messageStore, {
    projectId: config.projectId,
    queueRetentionMs: config.offlineRetentionDays * 86_400_000,
    groupCommit: { windowMs: config.groupCommitWindowMs, maxMessages: config.groupCommitMaxMessages, maxWrites: config.groupCommitMaxWrites },
  });
  // Admission asks for a user's conversations twice at once (offline queue: group rooms; presence: contacts): one query.
  const store = coalesceConversationsOf(options.messageStore ? options.messageStore(realStore) : realStore);
  const presence = createPresenceStore(redis, {
    owner: randomUUID(),
    sweepLockMs: Math.max(2 * config.presenceSweepIntervalMs, 1_000),
    timeoutMs: config.presenceRedisTimeoutMs,
    logger,
    clock,
  });
  const devices = db ? new FirestoreDeviceRegistry(db) : new MemoryDeviceRegistry();
  return {
    store,
    presence,
    sequences: new SequenceFacade(db ? new FirestoreSequenceAllocator(db) : new MemorySequenceAllocator(), logger, redis),
    rateLimiter: new RateLimiterFacade(clock, redis),
    slots: new ConnectionSlotsFacade(redis, config.presenceRedisTimeoutMs),
    consent: db ? new FirestoreConsentStore(db) : new MemoryConsentStore(),
    privacy: new CachedPresencePrivacy(db ? new FirestorePresencePrivacy(db) : new MemoryPresencePrivacy(), config.presenceLookupCacheMs),
    users: new FirebaseUserDirectory(firebaseAuth(config.projectId)),
    routed: createRoutedLedger(redis),
    markers: createQueueMarkers(redis, logger),
    notificationMarkers: createQueueMarkers(redis, logger, "notifications"),
    contacts: new StoreContactDirectory(store),
    records: new CachedUserRecords(db ? new BatchedUserRecords(db, config.userRecordsFlushMs) : new MemoryUserRecords(), {
      ttlMs: config.presenceLookupCacheMs,
      concurrency: config.presenceLookupConcurrency,
    }) as UserRecords & { flush?(): Promise<void> },
    broadcasts: db ? new FirestoreBroadcastStore(db) : new MemoryBroadcastStore(),
    activity: config.activityLogEnabled ? createActivityLog(config, logger, db) : undefined,
    broadcastReceipts: db ? new FirestoreBroadcastReceipts(db) : new MemoryBroadcastReceipts(),
    devices,
    push: new PushDispatcher(devices, pushSender(config, options), logger),
    calls: createCallState(redis),
    notifications: db ? new FirestoreNotificationStore(db) : new MemoryNotificationStore(),
    blocks: new CachedBlockList(db ? new FirestoreBlockList(db) : new MemoryBlockList(), config.blockListCacheMs),
  };
}

/** A service shared by several features of one gateway, built once from that gateway's context. */
/** FCM through firebase-admin, an injected sender, or none. */
export function pushSender(config: GatewayConfig, options: { pushSender?: PushSender } = {}): PushSender {
  if (options.pushSender) return options.pushSender;
  if (config.pushProvider === "fcm") return new FcmPushSender(getMessaging(firebaseApp(config.projectId)));
  return { send: async () => ({ sent: 0, failed: 0, invalidTokens: [] }) };
}

function perGateway<T>(build: (ctx: GatewayContext) => T): (ctx: GatewayContext) => T {
  const built = new WeakMap<GatewayContext, T>();
  return (ctx) => {
    if (!built.has(ctx)) built.set(ctx, build(ctx));
    return built.get(ctx)!;
  };
}

/** One report per outage (false) and one when Redis is back (true), from the connection's error/ready churn. */
function watchHealth(redis: Redis, report: (up: boolean) => void): void {
  let down = false;
  redis.on("error", () => {
    if (!down) report(false);
    down = true;
  });
  redis.on("ready", () => {
    if (down) report(true);
    down = false;
  });
}

/** How long a starting gateway waits for its Redis before opening its port anyway (memory fallbacks then). */
const REDIS_READY_WAIT_MS = 5_000;

/** Resolves once `redis` is ready, or after `ms` whatever its state: a Redis that is down must not stop a start. */
function untilReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once("ready", done);
  });
}

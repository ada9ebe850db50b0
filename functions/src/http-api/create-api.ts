import type Redis from "ioredis";
import type { GatewayConfig } from "../config";
import { firebaseAuth, firestore } from "../firebase";
import { createActivityLog, createActivityReader } from "../ports/activity-log";
import { systemClock } from "../ports/clock";
import { CachedBlockList, FirestoreBlockList } from "../ports/block-list";
import { CachedContactDirectory } from "../ports/contact-directory/cached-contact-directory";
import { StoreContactDirectory } from "../ports/contact-directory/store-contact-directory";
import { FirestoreConversationIndex } from "../ports/conversation-index/firestore-conversation-index";
import type { Logger } from "../ports/logger";
import { createMessageStore } from "../ports/message-store";
import { RedisPresenceStore } from "../ports/presence-store/redis-presence-store";
import { presenceVisibility } from "../ports/presence-visibility";
import { CachedPresencePrivacy, FirestorePresencePrivacy } from "../ports/presence-privacy";
import { RateLimiterFacade } from "../ports/rate-limiter";
import { BoundedRateLimiter } from "../ports/rate-limiter/bounded-rate-limiter";
import { FirebaseTokenVerifier } from "../ports/token-verifier/firebase-token-verifier";
import { FirebaseUserProfiles } from "../ports/user-directory/user-profiles";
import { FirestoreUserRecordReader } from "../ports/user-records/user-record-reader";
import { BatchedUserRecords } from "../ports/user-records/batched-user-records";
import { createApiHandler } from "./api-handler";
import type { ApiDeps } from "./types";

/**
 * The API wired to its real adapters: Firebase Auth, Firestore (what the gateway writes), and the
 * gateway's Redis for presence (read as it is, no in-memory fallback: this process holds no sockets,
 * so without Redis it knows nobody's presence) and for rate limits (memory per instance while Redis is away).
 */
export function createApiDeps(config: GatewayConfig, options: { redis?: Redis; logger: Logger }): ApiDeps {
  const db = firestore(config.projectId);
  const clock = systemClock;
  const messages = createMessageStore("firestore", { projectId: config.projectId, queueRetentionMs: config.offlineRetentionDays * 86_400_000 });
  const contacts = new CachedContactDirectory(new StoreContactDirectory(messages), config.httpContactsCacheMs);
  const blocks = new CachedBlockList(new FirestoreBlockList(db), config.blockListCacheMs);
  return {
    config,
    verifier: new FirebaseTokenVerifier(firebaseAuth(config.projectId), config.checkRevoked),
    presence: options.redis ? new RedisPresenceStore(options.redis) : undefined,
    visibility: presenceVisibility(contacts, blocks),
    privacy: new CachedPresencePrivacy(new FirestorePresencePrivacy(db), config.httpContactsCacheMs),
    directContactsOf: (uid) => contacts.directContactsOf(uid),
    records: new FirestoreUserRecordReader(db),
    recordWriter: new BatchedUserRecords(db, config.userRecordsFlushMs),
    profiles: new FirebaseUserProfiles(firebaseAuth(config.projectId)),
    conversations: new FirestoreConversationIndex(db),
    messages,
    activity: createActivityLog(config, options.logger, db),
    analytics: createActivityReader(db),
    rateLimiter: new BoundedRateLimiter(new RateLimiterFacade(clock, options.redis), clock, Math.min(1_000, config.httpBackendTimeoutMs)),
    clock,
    logger: options.logger,
  };
}

export function createApi(config: GatewayConfig, options: { redis?: Redis; logger: Logger }) {
  return createApiHandler(createApiDeps(config, options));
}

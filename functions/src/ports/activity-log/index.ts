import type { Firestore } from "firebase-admin/firestore";
import type { GatewayConfig } from "../../config";
import type { Logger } from "../logger";
import type { ActivityLog, ActivityReader } from "./activity-log";
import { FirestoreActivityLog, FirestoreActivityReader } from "./firestore-activity-log";
import { MemoryActivityLog } from "./memory-activity-log";

export * from "./activity-log";

/** The log beside the message store: on Firestore when given one, in memory otherwise. */
export function createActivityLog(config: GatewayConfig, logger: Logger, db: Firestore | undefined): ActivityLog {
  if (!db) return new MemoryActivityLog();
  return new FirestoreActivityLog(db, {
    retentionDays: config.activityRetentionDays,
    flushMs: config.activityFlushMs,
    bufferMax: config.activityBufferMax,
    shards: config.activityCounterShards,
    timeoutMs: config.storeTimeoutMs,
    logger,
  });
}

export function createActivityReader(db: Firestore): ActivityReader {
  return new FirestoreActivityReader(db);
}

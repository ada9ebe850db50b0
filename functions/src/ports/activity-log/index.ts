import type { GatewayConfig } from "../../config";
import { firestore } from "../../firebase";
import type { Logger } from "../logger";
import type { ActivityLog, ActivityReader } from "./activity-log";
import { FirestoreActivityLog, FirestoreActivityReader } from "./firestore-activity-log";
import { MemoryActivityLog } from "./memory-activity-log";

export * from "./activity-log";

/** The log the config names: Firestore beside the Firestore message store, memory beside the memory one. */
export function createActivityLog(config: GatewayConfig, logger: Logger): ActivityLog & Partial<ActivityReader> {
  if (config.messageStore === "memory") return new MemoryActivityLog();
  return new FirestoreActivityLog(firestore(config.projectId), {
    retentionDays: config.activityRetentionDays,
    flushMs: config.activityFlushMs,
    bufferMax: config.activityBufferMax,
    shards: config.activityCounterShards,
    timeoutMs: config.storeTimeoutMs,
    logger,
  });
}

export function createActivityReader(config: GatewayConfig): ActivityReader {
  return new FirestoreActivityReader(firestore(config.projectId));
}

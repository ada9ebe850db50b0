import type Redis from "ioredis";
import type { Logger } from "../logger";
import { NoQueueMarkers, QueueMarkers } from "./queue-markers";
import { MarkedCollection, RedisQueueMarkers } from "./redis-queue-markers";

export * from "./queue-markers";

/** Redis markers when the gateway has Redis, else none (every admission reads its queue). */
export const createQueueMarkers = (redis: Redis | undefined, logger: Logger, collection: MarkedCollection = "queue"): QueueMarkers =>
  redis ? new RedisQueueMarkers(redis, logger, collection) : new NoQueueMarkers();

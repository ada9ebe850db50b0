import Redis from "ioredis";
import type { Logger } from "./logger";

/**
 * One ioredis connection for a gateway's stores (presence, rate limits, sequence numbers).
 * Commands fail fast while Redis is down (no offline queue, one retry) so callers can fall back to
 * memory at once; the client keeps reconnecting in the background and emits "ready" when Redis is back.
 * Command connections auto-pipeline: every command issued in one event-loop tick (concurrent sends,
 * admissions, publishes) leaves in one socket write and is answered in one read, instead of one write
 * and one read per command. Subscriber connections (`queueWhileDown`) do not.
 */
export function createRedisConnection(url: string, logger: Logger, name = "talowa", options: { queueWhileDown?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    // Subscriber connections queue their (re)subscriptions; command connections fail fast.
    enableOfflineQueue: options.queueWhileDown ?? false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
    enableAutoPipelining: !(options.queueWhileDown ?? false),
  });
  let reported = false;
  redis.on("error", (error) => {
    if (!reported) logger.warn("redis unavailable", { url: redactUrl(url), error: error.message });
    reported = true;
  });
  redis.on("ready", () => {
    if (reported) logger.info("redis available again", { url: redactUrl(url) });
    reported = false;
  });
  return redis;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

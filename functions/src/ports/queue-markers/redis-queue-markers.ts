import type Redis from "ioredis";
import type { Logger } from "../logger";
import type { QueueMarkers } from "./queue-markers";

/** What is marked empty: the offline queue, or the unread notifications (the same rules, their own keys). */
export type MarkedCollection = "queue" | "notifications";
/** A mark lives this long without a refresh (it then expires: the next admission reads the queue). */
const MARK_TTL_MS = 7 * 86_400_000;
/** Users queued for while Redis was unreachable, remembered for repair; past this the epoch is bumped. */
const MAX_UNMARKED = 10_000;

// Per user one hash: `gen` (raised by every queueing) and `empty` ("<epoch>:<gen>" when found empty).
const QUEUEING = `
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;
// Set "empty" only if nobody queued since the generation was read.
const MARK_EMPTY = `
local gen = redis.call('HGET', KEYS[1], 'gen') or '0'
if gen ~= ARGV[1] then return 0 end
local epoch = redis.call('GET', KEYS[2]) or '0'
redis.call('HSET', KEYS[1], 'gen', gen, 'empty', epoch .. ':' .. gen)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

type WithScripts = Redis & {
  talowaQueueing(key: string, ttlMs: number): Promise<number>;
  talowaQueueMarkEmpty(key: string, epochKey: string, generation: string, ttlMs: number): Promise<number>;
};

/**
 * Queue markers in Redis (`talowa:queue:{uid}`, a hash; `talowa:queue-epoch`). An admission reads the
 * user's hash and the epoch in one auto-pipelined round trip and skips the Firestore query only when
 * `empty` equals "<epoch>:<gen>".
 */
export class RedisQueueMarkers implements QueueMarkers {
  private readonly redis: WithScripts;
  private readonly unmarked = new Set<string>();
  private overflowed = false;
  private readonly prefix: string;
  /** Bumped when this instance lost track of whom it queued for: every "known empty" mark becomes stale. */
  private readonly epochKey: string;

  constructor(
    redis: Redis,
    private readonly logger: Logger,
    collection: MarkedCollection = "queue",
  ) {
    this.prefix = `talowa:${collection}:`;
    this.epochKey = `talowa:${collection}-epoch`;
    if (!("talowaQueueing" in redis)) redis.defineCommand("talowaQueueing", { lua: QUEUEING, numberOfKeys: 1 });
    if (!("talowaQueueMarkEmpty" in redis)) redis.defineCommand("talowaQueueMarkEmpty", { lua: MARK_EMPTY, numberOfKeys: 2 });
    this.redis = redis as WithScripts;
  }

  async check(uid: string) {
    try {
      const [[gen, empty], epoch] = await Promise.all([this.redis.hmget(this.prefix + uid, "gen", "empty"), this.redis.get(this.epochKey)]);
      const generation = gen ?? "0";
      return { knownEmpty: empty !== null && empty === `${epoch ?? "0"}:${generation}`, generation };
    } catch {
      return { knownEmpty: false, generation: null };
    }
  }

  async queueing(uids: string[]) {
    if (uids.length === 0) return;
    const results = await Promise.allSettled(uids.map((uid) => this.redis.talowaQueueing(this.prefix + uid, MARK_TTL_MS)));
    results.forEach((r, i) => {
      if (r.status === "rejected") this.remember(uids[i]);
    });
  }

  async markEmpty(uid: string, generation: string) {
    await this.redis.talowaQueueMarkEmpty(this.prefix + uid, this.epochKey, generation, MARK_TTL_MS).catch(() => undefined);
  }

  async repair() {
    if (this.overflowed) {
      try {
        await this.redis.incr(this.epochKey);
        this.overflowed = false;
        this.unmarked.clear();
      } catch {
        return;
      }
    }
    const uids = [...this.unmarked];
    this.unmarked.clear();
    await this.queueing(uids);
  }

  private remember(uid: string): void {
    if (this.overflowed) return;
    if (this.unmarked.size >= MAX_UNMARKED) {
      this.overflowed = true;
      this.unmarked.clear();
      this.logger.warn("queue markers: too many users queued for while Redis was away; every mark will be invalidated when it is back");
      return;
    }
    this.unmarked.add(uid);
  }
}

import type Redis from "ioredis";
import { withTimeout as bounded } from "../../util/with-timeout";
import type { UserPresence } from "../../protocol";
import type { Clock } from "../clock";
import type { Logger } from "../logger";
import { MemoryPresenceStore } from "./memory-presence-store";
import type { ChosenPresence, ConnectionRef, PresenceChange, PresenceCounts, PresenceMode, PresenceStore } from "./presence-store";
import { RedisPresenceStore } from "./redis-presence-store";

const MAX_REMEMBERED_CLOSES = 100_000;

export interface FallbackOptions {
  /** Owner name of the sweeper lock (the instance id). */
  owner: string;
  /** How long one instance keeps the sweeper lock without renewing it. */
  sweepLockMs: number;
  /** A Redis command slower than this counts as Redis being away. */
  timeoutMs: number;
  logger: Logger;
  clock: Clock;
}

/**
 * Redis presence with an in-memory fallback. Every change is applied to this instance's memory store
 * too (its own connections only), so when Redis fails (a command error, a timeout, the connection
 * closing) the instance answers from memory at once, and when Redis is ready again it writes its live
 * connections and chosen statuses back, removes the connections that closed meanwhile, and resumes.
 */
export class FallbackPresenceStore implements PresenceStore {
  private current: PresenceMode;
  private readonly shared: RedisPresenceStore;
  private readonly closedWhileDown = new Map<string, ConnectionRef>();
  private localVersion = 0;
  private resyncing?: Promise<void>;
  private resyncListener?: (changes: PresenceChange[]) => void;

  constructor(
    private readonly redis: Redis,
    private readonly local: MemoryPresenceStore,
    private readonly options: FallbackOptions,
  ) {
    this.shared = new RedisPresenceStore(redis);
    this.current = redis.status === "ready" ? "redis" : "memory";
    // Status "end" right after "close" means the gateway quit on purpose: no fallback to announce.
    redis.on("close", () => queueMicrotask(() => redis.status !== "end" && this.fallBack("connection closed")));
    redis.on("ready", () => void this.resync());
  }

  get mode(): PresenceMode {
    return this.current;
  }

  /** Changes found while writing back to Redis (other instances' watchers missed them). */
  onResync(listener: (changes: PresenceChange[]) => void): void {
    this.resyncListener = listener;
  }

  async upsertConnection(conn: ConnectionRef, expiresAt: number, active: boolean, now: number): Promise<PresenceChange> {
    const local = await this.local.upsertConnection(conn, expiresAt, active, now);
    this.closedWhileDown.delete(conn.connId);
    return this.sharedOr((s) => s.upsertConnection(conn, expiresAt, active, now), () => local);
  }

  async removeConnection(conn: ConnectionRef, now: number): Promise<PresenceChange> {
    const local = await this.local.removeConnection(conn, now);
    const change = await this.sharedOr((s) => s.removeConnection(conn, now), () => local);
    // Also when this very call found Redis gone: the write-back removes it then. Past the cap, the
    // connection's expiry removes it from Redis instead (within the TTL).
    if (this.current === "memory" && this.closedWhileDown.size < MAX_REMEMBERED_CLOSES) this.closedWhileDown.set(conn.connId, conn);
    return change;
  }

  /** Sweeps this instance's memory always; sweeps Redis only while holding the sweeper lock. */
  async sweepExpired(now: number, ttlMs: number, limit: number): Promise<PresenceChange[]> {
    const local = await this.local.sweepExpired(now, ttlMs);
    if (this.current === "memory" && this.redis.status === "ready") void this.resync();
    return this.sharedOr(async (s) => {
      if (!(await s.acquireLock("sweeper", this.options.owner, this.options.sweepLockMs))) return [];
      return s.sweepExpired(now, ttlMs, limit);
    }, () => local);
  }

  async setChosen(uid: string, chosen: ChosenPresence, now: number): Promise<PresenceChange> {
    const local = await this.local.setChosen(uid, chosen, now);
    return this.sharedOr((s) => s.setChosen(uid, chosen, now), () => local);
  }

  get(uids: string[]): Promise<UserPresence[]> {
    return this.sharedOr((s) => s.get(uids), () => this.local.get(uids));
  }

  onlineUsers(uids: string[]): Promise<Set<string>> {
    return this.sharedOr((s) => s.onlineUsers(uids), () => this.local.onlineUsers(uids));
  }

  counts(): Promise<PresenceCounts> {
    return this.sharedOr((s) => s.counts(), () => this.local.counts());
  }

  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.sharedOr((s) => s.acquireLock(name, owner, ttlMs), () => this.local.acquireLock(name, owner, ttlMs));
  }

  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.sharedOr((s) => s.claimOnce(key, ttlMs), () => this.local.claimOnce(key, ttlMs));
  }

  private async sharedOr<T>(op: (s: RedisPresenceStore) => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    if (this.current === "memory") {
      this.localVersion += 1;
      return fallback();
    }
    try {
      return await withTimeout(op(this.shared), this.options.timeoutMs);
    } catch (error) {
      this.fallBack(error instanceof Error ? error.message : String(error));
      return fallback();
    }
  }

  private fallBack(reason: string): void {
    if (this.current === "memory") return;
    this.current = "memory";
    this.options.logger.warn("presence: Redis unavailable, using in-memory presence", { reason });
  }

  private resync(): Promise<void> {
    this.resyncing ??= this.writeBack()
      .then((changes) => {
        this.current = "redis";
        this.options.logger.info("presence: Redis available, resumed shared presence", { changes: changes.length });
        this.resyncListener?.(changes.filter((c) => c.changed));
      })
      .catch((error) => this.options.logger.warn("presence: write-back to Redis failed, staying in memory", { error: String(error) }))
      .finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  /** Writes local state back until no local change happened meanwhile (a few rounds at most). */
  private async writeBack(): Promise<PresenceChange[]> {
    const changes: PresenceChange[] = [];
    for (let round = 0; round < 5; round += 1) {
      const version = this.localVersion;
      const now = this.options.clock.now();
      for (const conn of this.local.liveConnections()) {
        changes.push(await withTimeout(this.shared.upsertConnection(conn, conn.expiresAt, conn.active, now), this.options.timeoutMs));
      }
      for (const { uid, ...chosen } of this.local.chosenOfLiveUsers()) {
        changes.push(await withTimeout(this.shared.setChosen(uid, chosen, now), this.options.timeoutMs));
      }
      for (const conn of [...this.closedWhileDown.values()]) {
        changes.push(await withTimeout(this.shared.removeConnection(conn, now), this.options.timeoutMs));
        this.closedWhileDown.delete(conn.connId);
      }
      if (version === this.localVersion) break;
    }
    return changes;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return bounded(promise, ms, () => new Error(`Redis did not answer within ${ms} ms`));
}

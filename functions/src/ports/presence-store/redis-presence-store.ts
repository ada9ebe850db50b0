import type Redis from "ioredis";
import type { PresenceStatus, UserPresence } from "../../protocol";
import { withOptional } from "./memory-presence-store";
import { ChosenPresence, ConnectionRef, emptyCounts, PresenceChange, PresenceCounts, PresenceStore } from "./presence-store";

/** Every presence key starts with this (see the README's presence section). */
export const PRESENCE_PREFIX = "talowa:presence:";
/** An offline user's record (lastSeen, chosen status) stays this long; Firestore keeps lastSeen for good. */
const OFFLINE_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** At most this many batches per sweep; whatever is left waits for the next sweep. */
const MAX_SWEEP_ROUNDS = 20;

/**
 * Shared Lua helpers. Keys: `expiry` (ZSET "connId|uid" scored by expiry ms), `conns:{uid}` and
 * `active:{uid}` (SETs of connIds), `user:{uid}` (HASH status, customStatus, lastSeen), `online` (SET of
 * uids with a live connection) and `counts` (HASH users per shown status, kept by every transition).
 * Scripts touch undeclared keys: fine on one Redis primary, not on a cluster (see README).
 */
const prelude = `
local P = '${PRESENCE_PREFIX}'
local function status_of(uid)
  if redis.call('SCARD', P..'conns:'..uid) == 0 then return 'offline' end
  local chosen = redis.call('HGET', P..'user:'..uid, 'status')
  if chosen == 'busy' or chosen == 'away' then return chosen end
  if redis.call('SCARD', P..'active:'..uid) == 0 then return 'away' end
  return 'online'
end
local function forget(uid, conn)
  redis.call('ZREM', P..'expiry', conn..'|'..uid)
  redis.call('SREM', P..'conns:'..uid, conn)
  redis.call('SREM', P..'active:'..uid, conn)
end
local function settle(uid, before, custom_before, at)
  local after = status_of(uid)
  local user = P..'user:'..uid
  if before ~= after then
    if before ~= 'offline' then redis.call('HINCRBY', P..'counts', before, -1) end
    if after ~= 'offline' then redis.call('HINCRBY', P..'counts', after, 1) end
    if after == 'offline' then
      redis.call('SREM', P..'online', uid)
      redis.call('HSET', user, 'lastSeen', at)
      redis.call('PEXPIRE', user, ${OFFLINE_RETENTION_MS})
    elseif before == 'offline' then
      redis.call('SADD', P..'online', uid)
      redis.call('PERSIST', user)
    end
  end
  local fields = redis.call('HMGET', user, 'customStatus', 'lastSeen')
  local custom = fields[1] or ''
  local changed = '0'
  if before ~= after or custom ~= custom_before then changed = '1' end
  return {uid, before, after, custom, fields[2] or '', changed}
end
local function custom_of(uid)
  return redis.call('HGET', P..'user:'..uid, 'customStatus') or ''
end
`;

const scripts = {
  /** ARGV: uid, connId, expiresAt, active (1/0), now */
  presenceUpsert: `${prelude}
local uid, conn = ARGV[1], ARGV[2]
local before, custom = status_of(uid), custom_of(uid)
redis.call('ZADD', P..'expiry', ARGV[3], conn..'|'..uid)
redis.call('SADD', P..'conns:'..uid, conn)
if ARGV[4] == '1' then redis.call('SADD', P..'active:'..uid, conn) else redis.call('SREM', P..'active:'..uid, conn) end
return settle(uid, before, custom, ARGV[5])`,
  /** ARGV: uid, connId, now */
  presenceRemove: `${prelude}
local uid = ARGV[1]
local before, custom = status_of(uid), custom_of(uid)
forget(uid, ARGV[2])
return settle(uid, before, custom, ARGV[3])`,
  /** ARGV: now, ttlMs, limit. Reads only the expired range: cost grows with expiries, not with users. */
  presenceSweep: `${prelude}
local expired = redis.call('ZRANGEBYSCORE', P..'expiry', '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
local changes = {}
for i = 1, #expired, 2 do
  local member = expired[i]
  local sep = string.find(member, '|', 1, true)
  local conn, uid = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  local before, custom = status_of(uid), custom_of(uid)
  forget(uid, conn)
  local last_seen = string.format('%d', tonumber(expired[i + 1]) - tonumber(ARGV[2]))
  local change = settle(uid, before, custom, last_seen)
  if change[6] == '1' then table.insert(changes, change) end
end
return {#expired / 2, changes}`,
  /** ARGV: uid, status ('' keeps it), customMode (keep/set/clear), customStatus, now */
  presenceChoose: `${prelude}
local uid = ARGV[1]
local user = P..'user:'..uid
local before, custom = status_of(uid), custom_of(uid)
if ARGV[2] ~= '' then redis.call('HSET', user, 'status', ARGV[2]) end
if ARGV[3] == 'set' then redis.call('HSET', user, 'customStatus', ARGV[4]) end
if ARGV[3] == 'clear' then redis.call('HDEL', user, 'customStatus') end
return settle(uid, before, custom, ARGV[5])`,
  /** ARGV: uids. Answers status, customStatus, lastSeen per uid. */
  presenceGet: `${prelude}
local out = {}
for _, uid in ipairs(ARGV) do
  local fields = redis.call('HMGET', P..'user:'..uid, 'customStatus', 'lastSeen')
  table.insert(out, {status_of(uid), fields[1] or '', fields[2] or ''})
end
return out`,
  /** KEYS: lock; ARGV: owner, ttlMs */
  presenceLock: `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`,
};

type ChangeReply = [string, PresenceStatus, PresenceStatus, string, string, string];

interface PresenceCommands {
  presenceUpsert(...args: Array<string | number>): Promise<ChangeReply>;
  presenceRemove(...args: Array<string | number>): Promise<ChangeReply>;
  presenceSweep(...args: Array<string | number>): Promise<[number, ChangeReply[]]>;
  presenceChoose(...args: Array<string | number>): Promise<ChangeReply>;
  presenceGet(...args: string[]): Promise<Array<[PresenceStatus, string, string]>>;
  presenceLock(key: string, owner: string, ttlMs: number): Promise<number>;
}

/** Presence shared by every gateway instance on one Redis; each change is one atomic Lua script. */
export class RedisPresenceStore implements PresenceStore {
  readonly mode = "redis" as const;
  private readonly redis: Redis & PresenceCommands;

  constructor(redis: Redis) {
    for (const [name, lua] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys: name === "presenceLock" ? 1 : 0 });
    }
    this.redis = redis as Redis & PresenceCommands;
  }

  async upsertConnection(conn: ConnectionRef, expiresAt: number, active: boolean, now: number): Promise<PresenceChange> {
    return toChange(await this.redis.presenceUpsert(conn.uid, conn.connId, expiresAt, active ? "1" : "0", now));
  }

  async removeConnection(conn: ConnectionRef, now: number): Promise<PresenceChange> {
    return toChange(await this.redis.presenceRemove(conn.uid, conn.connId, now));
  }

  /** Batches of `limit` per script call (Redis stays responsive), until the expired range is empty. */
  async sweepExpired(now: number, ttlMs: number, limit: number): Promise<PresenceChange[]> {
    const changes: PresenceChange[] = [];
    for (let round = 0; round < MAX_SWEEP_ROUNDS; round += 1) {
      const [removed, batch] = await this.redis.presenceSweep(now, ttlMs, limit);
      changes.push(...batch.map(toChange));
      if (removed < limit) break;
    }
    return changes;
  }

  async setChosen(uid: string, chosen: ChosenPresence, now: number): Promise<PresenceChange> {
    const clear = chosen.customStatus === null || chosen.customStatus === "";
    const customMode = clear ? "clear" : chosen.customStatus === undefined ? "keep" : "set";
    return toChange(await this.redis.presenceChoose(uid, chosen.status ?? "", customMode, chosen.customStatus ?? "", now));
  }

  async get(uids: string[]): Promise<UserPresence[]> {
    if (uids.length === 0) return [];
    const rows = await this.redis.presenceGet(...uids);
    return rows.map(([status, custom, lastSeen], i) =>
      status === "offline"
        ? withOptional({ userId: uids[i], status }, undefined, numberOrUndefined(lastSeen))
        : withOptional({ userId: uids[i], status }, custom || undefined),
    );
  }

  async onlineUsers(uids: string[]): Promise<Set<string>> {
    if (uids.length === 0) return new Set();
    const flags = await this.redis.smismember(`${PRESENCE_PREFIX}online`, ...uids);
    return new Set(uids.filter((_, i) => flags[i] === 1));
  }

  async counts(): Promise<PresenceCounts> {
    const [[, onlineUsers], [, connections], [, counts]] = (await this.redis
      .multi()
      .scard(`${PRESENCE_PREFIX}online`)
      .zcard(`${PRESENCE_PREFIX}expiry`)
      .hgetall(`${PRESENCE_PREFIX}counts`)
      .exec()) as [[null, number], [null, number], [null, Record<string, string>]];
    const byStatus = emptyCounts();
    for (const status of Object.keys(byStatus) as Array<keyof typeof byStatus>) byStatus[status] = Number(counts[status] ?? 0);
    return { onlineUsers, connections, byStatus };
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.presenceLock(`${PRESENCE_PREFIX}lock:${name}`, owner, ttlMs)) === 1;
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${PRESENCE_PREFIX}claim:${key}`, "1", "PX", ttlMs, "NX")) === "OK";
  }
}

function toChange([uid, before, after, custom, lastSeen, changed]: ChangeReply): PresenceChange {
  const change: PresenceChange = { uid, before, after, changed: changed === "1" };
  if (custom && after !== "offline") change.customStatus = custom;
  if (after === "offline") change.lastSeen = numberOrUndefined(lastSeen);
  return change;
}

function numberOrUndefined(value: string): number | undefined {
  return value === "" ? undefined : Number(value);
}

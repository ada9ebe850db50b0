import type { ChosenPresenceStatus, PresenceStatus, UserPresence } from "../../protocol";

export type PresenceMode = "redis" | "memory";

/** One live Socket.IO connection of a user (connId is the socket id: unique across instances). */
export interface ConnectionRef {
  uid: string;
  connId: string;
}

/** A user's presence before and after one store operation; the gateway announces it when `changed`. */
export interface PresenceChange {
  uid: string;
  before: PresenceStatus;
  after: PresenceStatus;
  customStatus?: string;
  lastSeen?: number;
  /** The status or the custom status differs from before. */
  changed: boolean;
}

export interface ChosenPresence {
  status?: ChosenPresenceStatus;
  /** A string sets it, null clears it, undefined keeps it. */
  customStatus?: string | null;
}

export interface PresenceCounts {
  onlineUsers: number;
  connections: number;
  byStatus: Record<Exclude<PresenceStatus, "offline">, number>;
}

/**
 * The presence port. A user is online while any of its connections is live (not removed, not expired).
 * Its shown status: offline without live connections; else the status it chose when busy or away;
 * else away when none of its connections is active (idle or in the background); else online.
 */
export interface PresenceStore {
  readonly mode: PresenceMode;
  /** Adds a connection or refreshes it: live until `expiresAt`, counting as active or not. */
  upsertConnection(conn: ConnectionRef, expiresAt: number, active: boolean, now: number): Promise<PresenceChange>;
  /** A clean disconnect; the user's last connection gone makes it offline with lastSeen = now. */
  removeConnection(conn: ConnectionRef, now: number): Promise<PresenceChange>;
  /**
   * Removes connections that expired before `now` (lastSeen = expiry - ttl), `limit` per round trip
   * where that matters, and answers the users that changed.
   */
  sweepExpired(now: number, ttlMs: number, limit: number): Promise<PresenceChange[]>;
  setChosen(uid: string, chosen: ChosenPresence, now: number): Promise<PresenceChange>;
  get(uids: string[]): Promise<UserPresence[]>;
  onlineUsers(uids: string[]): Promise<Set<string>>;
  counts(): Promise<PresenceCounts>;
  /** A lock held by `owner` for `ttlMs` (renewed when already held by it). */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** True for the first claim of `key` within `ttlMs` (throttles writes across instances). */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Stores with a fallback call this with the changes found when they write back to Redis. */
  onResync?(listener: (changes: PresenceChange[]) => void): void;
}

/** The shown status; the Lua scripts of the Redis store follow the same rule. */
export function shownStatus(liveConnections: number, activeConnections: number, chosen: ChosenPresenceStatus | undefined): PresenceStatus {
  if (liveConnections === 0) return "offline";
  if (chosen === "busy" || chosen === "away") return chosen;
  return activeConnections === 0 ? "away" : "online";
}

export const emptyCounts = (): PresenceCounts["byStatus"] => ({ online: 0, away: 0, busy: 0 });

/** Which users have at least one live connection on any instance (what sending needs of presence). */
export type OnlineDirectory = Pick<PresenceStore, "onlineUsers">;

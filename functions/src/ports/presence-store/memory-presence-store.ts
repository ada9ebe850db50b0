import { LRUCache } from "lru-cache";
import type { ChosenPresenceStatus, PresenceStatus, UserPresence } from "../../protocol";
import {
  ChosenPresence,
  ConnectionRef,
  emptyCounts,
  PresenceChange,
  PresenceCounts,
  PresenceStore,
  shownStatus,
} from "./presence-store";

/** Bound on remembered users: offline ones beyond it are forgotten (Firestore keeps their lastSeen). */
const MAX_OFFLINE_USERS = 100_000;

interface UserState {
  connections: Set<string>;
  active: Set<string>;
  chosen?: ChosenPresenceStatus;
  customStatus?: string;
  lastSeen?: number;
}

interface LiveConnection extends ConnectionRef {
  expiresAt: number;
  active: boolean;
}

/**
 * Presence in this process only: the single-process store, the fallback while Redis is away, and the
 * shadow of this instance's own connections kept in Redis mode (so a fallback starts with them).
 */
export class MemoryPresenceStore implements PresenceStore {
  readonly mode = "memory" as const;
  private readonly users = new Map<string, UserState>();
  private readonly live = new Map<string, LiveConnection>();
  private readonly locks = new Map<string, { owner: string; until: number }>();
  /** Until when each claim holds; the oldest are forgotten first past the bound. */
  private readonly claims = new LRUCache<string, number>({ max: 10_000 });

  constructor(private readonly now: () => number = Date.now) {}

  async upsertConnection(conn: ConnectionRef, expiresAt: number, active: boolean, now: number): Promise<PresenceChange> {
    return this.change(conn.uid, now, (user) => {
      this.live.set(conn.connId, { ...conn, expiresAt, active });
      user.connections.add(conn.connId);
      if (active) user.active.add(conn.connId);
      else user.active.delete(conn.connId);
    });
  }

  async removeConnection(conn: ConnectionRef, now: number): Promise<PresenceChange> {
    return this.change(conn.uid, now, (user) => this.forget(user, conn.connId));
  }

  /** Sweeps every expired connection at once (no other client waits on this process's map). */
  async sweepExpired(now: number, ttlMs: number): Promise<PresenceChange[]> {
    const changes: PresenceChange[] = [];
    for (const conn of [...this.live.values()].filter((c) => c.expiresAt <= now)) {
      const change = this.change(conn.uid, conn.expiresAt - ttlMs, (user) => this.forget(user, conn.connId));
      if (change.changed) changes.push(change);
    }
    return changes;
  }

  async setChosen(uid: string, chosen: ChosenPresence, now: number): Promise<PresenceChange> {
    return this.change(uid, now, (user) => {
      if (chosen.status) user.chosen = chosen.status;
      if (chosen.customStatus === null || chosen.customStatus === "") user.customStatus = undefined;
      else if (chosen.customStatus !== undefined) user.customStatus = chosen.customStatus;
    });
  }

  async get(uids: string[]): Promise<UserPresence[]> {
    return uids.map((uid) => this.presenceOf(uid));
  }

  async onlineUsers(uids: string[]): Promise<Set<string>> {
    return new Set(uids.filter((uid) => (this.users.get(uid)?.connections.size ?? 0) > 0));
  }

  async counts(): Promise<PresenceCounts> {
    const byStatus = emptyCounts();
    let onlineUsers = 0;
    for (const user of this.users.values()) {
      const status = this.statusOf(user);
      if (status === "offline") continue;
      onlineUsers += 1;
      byStatus[status] += 1;
    }
    return { onlineUsers, connections: this.live.size, byStatus };
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.locks.get(name);
    if (held && held.owner !== owner && held.until > this.now()) return false;
    this.locks.set(name, { owner, until: this.now() + ttlMs });
    return true;
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const until = this.claims.get(key) ?? 0;
    if (until > this.now()) return false;
    this.claims.set(key, this.now() + ttlMs);
    return true;
  }

  /** This instance's live connections, written back to Redis when it returns. */
  liveConnections(): LiveConnection[] {
    return [...this.live.values()];
  }

  /** Chosen statuses of users with live connections here, written back to Redis when it returns. */
  chosenOfLiveUsers(): Array<{ uid: string } & ChosenPresence> {
    return [...this.users.entries()]
      .filter(([, user]) => user.connections.size > 0 && (user.chosen || user.customStatus))
      .map(([uid, user]) => ({ uid, status: user.chosen, customStatus: user.customStatus }));
  }

  private change(uid: string, at: number, mutate: (user: UserState) => void): PresenceChange {
    const user = this.userState(uid);
    const before = this.statusOf(user);
    const customBefore = user.customStatus;
    mutate(user);
    const after = this.statusOf(user);
    if (after === "offline" && before !== "offline") this.wentOffline(uid, user, at);
    const change: PresenceChange = { uid, before, after, changed: before !== after || customBefore !== user.customStatus };
    if (after === "offline") change.lastSeen = user.lastSeen;
    else if (user.customStatus) change.customStatus = user.customStatus;
    return change;
  }

  /** Offline users stay for their lastSeen, the longest-gone dropped first past MAX_OFFLINE_USERS. */
  private wentOffline(uid: string, user: UserState, at: number): void {
    user.lastSeen = at;
    this.users.delete(uid);
    this.users.set(uid, user);
    if (this.users.size <= MAX_OFFLINE_USERS) return;
    for (const [oldest, state] of this.users) {
      if (this.users.size <= MAX_OFFLINE_USERS) break;
      if (state.connections.size === 0) this.users.delete(oldest);
    }
  }

  private forget(user: UserState, connId: string): void {
    this.live.delete(connId);
    user.connections.delete(connId);
    user.active.delete(connId);
  }

  private presenceOf(uid: string): UserPresence {
    const user = this.users.get(uid);
    if (!user) return { userId: uid, status: "offline" };
    const status = this.statusOf(user);
    if (status === "offline") return withOptional({ userId: uid, status }, undefined, user.lastSeen);
    return withOptional({ userId: uid, status }, user.customStatus);
  }

  private statusOf(user: UserState): PresenceStatus {
    return shownStatus(user.connections.size, user.active.size, user.chosen);
  }

  private userState(uid: string): UserState {
    let user = this.users.get(uid);
    if (!user) {
      user = { connections: new Set(), active: new Set() };
      this.users.set(uid, user);
    }
    return user;
  }

}

export function withOptional(base: { userId: string; status: PresenceStatus }, customStatus?: string, lastSeen?: number): UserPresence {
  const presence: UserPresence = { ...base };
  if (customStatus) presence.customStatus = customStatus;
  if (lastSeen !== undefined) presence.lastSeen = lastSeen;
  return presence;
}

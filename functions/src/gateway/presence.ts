import { z } from "zod";
import { GatewayError } from "../errors";
import { withTimeout } from "../util/with-timeout";
import { CHOSEN_PRESENCE_STATUSES, PresenceUpdatePayload, UserPresence } from "../protocol";
import type { ContactDirectory } from "../ports/contact-directory/contact-directory";
import type { ConnectionRef, PresenceChange, PresenceStore } from "../ports/presence-store/presence-store";
import type { UserRecords } from "../ports/user-records/user-records";
import type { BlockChecks } from "../ports/block-list";
import { allowedDetails, PresencePrivacy, PresencePrivacyStore, PRIVACY_AUDIENCES } from "../ports/presence-privacy";
import { presenceVisibility, PresenceVisibility } from "../ports/presence-visibility";
import { GatewayContext, GatewayFeature, GatewayServer, GatewaySocket, presenceRoom, userRoom } from "./types";

export { presenceRoom };

/**
 * Lets the members of a conversation see each other's presence from now on, on every instance: the
 * `added` members (all of them for a new conversation) watch everyone, and everyone watches them.
 * Sockets join their contacts' rooms when they connect; the `conversationChanged` hook calls this when
 * a conversation is created or gains members. Two adapter broadcasts, whatever the group's size.
 */
export function watchEachOther(io: GatewayServer, members: string[], added: string[] = members): void {
  if (members.length < 2 || added.length === 0) return;
  io.in(added.map(userRoom)).socketsJoin(members.map(presenceRoom));
  io.in(members.map(userRoom)).socketsJoin(added.map(presenceRoom));
}

/** Conversations up to this size introduce new members' presence live (larger ones: get_presence). */
const INTRODUCED_GROUP_MAX = 50;

export interface PresenceDeps {
  store: PresenceStore;
  contacts: ContactDirectory;
  records: UserRecords;
  /** Users who blocked a viewer see it offline and are not watched by it (issue 14). */
  blocks?: BlockChecks;
  /** Who sees a user's last seen and custom status (issue 12); without it everyone who sees the presence. */
  privacy?: PresencePrivacyStore;
}

export function presenceFeature(deps: PresenceDeps) {
  return (ctx: GatewayContext): GatewayFeature => new PresenceFeature(ctx, deps);
}

interface LocalConnection {
  socket: GatewaySocket;
  ref: ConnectionRef;
  foreground: boolean;
  lastActivityAt: number;
  /** As last written to the store. */
  active: boolean;
  expiresAt: number;
  lastRefreshAt: number;
  closed: boolean;
  /** Settles once the connection is in the store; the connection's calls wait for it. */
  ready: Promise<void>;
  contactRooms: Set<string>;
  subscriptions: Set<string>;
}

const SWEEP_BATCH = 1_000;
const MAX_CUSTOM_STATUS = 140;

const userIdsSchema = z.object({ userIds: z.array(z.string().min(1).max(128)).min(1) });
const updateSchema = z
  .object({
    status: z.enum(CHOSEN_PRESENCE_STATUSES).optional(),
    customStatus: z.string().max(MAX_CUSTOM_STATUS).nullable().optional(),
    appState: z.enum(["foreground", "background"]).optional(),
  });
const privacySchema = z.object({ lastSeen: z.enum(PRIVACY_AUDIENCES).optional(), customStatus: z.enum(PRIVACY_AUDIENCES).optional() });

/**
 * Presence: every admitted connection is written to the presence store with an expiry that heartbeats
 * (the `heartbeat` event or Engine.IO pongs) push forward; a sweeper removes connections that stopped
 * heartbeating; changes go to `presenceRoom(uid)` only.
 */
class PresenceFeature implements GatewayFeature {
  readonly name = "presence";
  private readonly local = new Map<string, LocalConnection>();
  private readonly lastActiveWritten = new Map<string, number>();
  private readonly preparedContacts = new WeakMap<GatewaySocket, string[]>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;
  private lastSweepAt = 0;
  private readonly visibility: PresenceVisibility;
  /** Per user, the last announcement in flight: announcements of one user leave in the order they were made. */
  private readonly announcing = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: PresenceDeps,
  ) {
    this.timer = setInterval(() => void this.tick(), ctx.config.presenceSweepIntervalMs);
    this.timer.unref();
    deps.store.onResync?.((changes) => changes.forEach((change) => this.announce(change)));
    ctx.hooks.on("userAction", ({ socket }) => {
      const conn = this.local.get(socket.id);
      if (conn) this.noteActivity(conn);
    });
    this.visibility = presenceVisibility(deps.contacts, deps.blocks);
    ctx.hooks.on("conversationChanged", ({ conversation, added, removed }) => {
      watchEachOther(ctx.io, conversation.members, added);
      if (added.length > 0) void this.introduce(conversation.members, added).catch((error) => this.warn("introduction", error));
      if (removed.length > 0) void this.stopWatching(conversation.members, removed).catch((error) => this.warn("removal", error));
    });
    this.defineCalls();
  }

  /**
   * People who now share a conversation for the first time learn each other's current presence at once
   * (a presence_update to their user rooms, on every instance): before, each was invisible to the other
   * and nothing would tell them until the next change. Online users only; large groups ask get_presence.
   */
  private async introduce(members: string[], added: string[]): Promise<void> {
    if (members.length > INTRODUCED_GROUP_MAX) return;
    const newcomers = new Set(added);
    for (const presence of await this.presenceOf(members)) {
      if (presence.status === "offline") continue;
      const viewers = (newcomers.has(presence.userId) ? members : added).filter((v) => v !== presence.userId);
      const shown = await this.publicDetails({ ...presence, timestamp: this.now() });
      for (const viewer of viewers) {
        if ((await this.withoutBlockers(viewer, [presence.userId])).length === 0) continue;
        this.ctx.io.to(userRoom(viewer)).emit("presence_update", shown);
      }
    }
  }

  /**
   * Removal stops the group's presence flow at once on every instance (adapter broadcasts): the removed
   * users' sockets leave the remaining members' presence rooms and the other way round; pairs that still
   * share another conversation watch each other again.
   */
  private async stopWatching(members: string[], removed: string[]): Promise<void> {
    const { io } = this.ctx;
    io.in(removed.map(userRoom)).socketsLeave(members.map(presenceRoom));
    io.in(members.map(userRoom)).socketsLeave(removed.map(presenceRoom));
    for (const uid of removed) {
      const contacts = new Set(await this.deps.contacts.contactsOf(uid));
      const still = members.filter((m) => contacts.has(m));
      if (still.length > 0) watchEachOther(io, [uid, ...still], [uid]);
    }
  }

  /** Looks the user's contacts up before the socket connects, so it watches them from its first moment. */
  async prepare(socket: GatewaySocket): Promise<void> {
    try {
      // Bounded like every store call: a hung lookup must not hold the admission (the gateway awaits every prepare).
      const lookup = this.deps.contacts.contactsOf(socket.data.uid);
      const contacts = await withTimeout(lookup, this.ctx.config.storeTimeoutMs, () => new Error("contacts lookup timed out"));
      this.preparedContacts.set(socket, await this.withoutBlockers(socket.data.uid, contacts));
    } catch (error) {
      this.ctx.logger.warn("presence: contacts lookup failed", { uid: socket.data.uid, error: String(error) });
    }
  }

  /** Does not wait for the store: the other features' handlers must not wait for presence. */
  onConnection(socket: GatewaySocket): void {
    const now = this.now();
    const conn: LocalConnection = {
      socket,
      ref: { uid: socket.data.uid, connId: socket.id },
      foreground: true,
      lastActivityAt: now,
      active: true,
      expiresAt: 0,
      lastRefreshAt: now,
      closed: false,
      ready: Promise.resolve(),
      contactRooms: new Set(),
      subscriptions: new Set(),
    };
    this.local.set(socket.id, conn);
    this.listen(conn);
    this.background(this.deps.records.loggedIn(conn.ref.uid, now), "lastLoginAt");
    void this.recordActivity(conn.ref.uid, now);
    this.watchContacts(conn, this.preparedContacts.get(socket) ?? []);
    this.preparedContacts.delete(socket);
    conn.ready = this.write(conn, now, true);
    conn.ready.catch((error) => this.warn("connect", error));
  }

  async onDisconnect(socket: GatewaySocket): Promise<void> {
    const conn = this.local.get(socket.id);
    if (!conn) return;
    conn.closed = true;
    this.local.delete(socket.id);
    await conn.ready.catch(() => undefined);
    this.announce(await this.deps.store.removeConnection(conn.ref, this.now()));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  async figures() {
    const counts = await this.deps.store.counts();
    const mode = this.deps.store.mode;
    for (const m of ["redis", "memory"] as const) this.ctx.metrics.presenceMode.set({ mode: m }, m === mode ? 1 : 0);
    return { presence: { mode, ...counts, localConnections: this.local.size, lastSweepAt: this.lastSweepAt || null } };
  }

  private listen(conn: LocalConnection): void {
    const { socket } = conn;
    socket.on("heartbeat", () => void this.refresh(conn));
    socket.conn.on("heartbeat", () => void this.refresh(conn));
  }

  private defineCalls(): void {
    const { calls } = this.ctx;
    calls.define("update_presence", { schema: updateSchema, handle: (p, socket) => this.whenReady(socket, (conn) => this.update(conn, p)) });
    calls.define("get_presence", { schema: userIdsSchema, handle: (p, socket) => this.whenReady(socket, () => this.query(p.userIds, socket.data.uid)) });
    calls.define("presence_subscribe", { schema: userIdsSchema, handle: (p, socket) => this.whenReady(socket, (conn) => this.subscribe(conn, p.userIds)) });
    calls.define("presence_unsubscribe", { schema: userIdsSchema, handle: (p, socket) => this.whenReady(socket, (conn) => this.unsubscribe(conn, p.userIds)) });
    calls.define("set_presence_privacy", { schema: privacySchema, handle: (p, socket) => this.setPrivacy(socket.data.uid, p) });
  }

  /** A connection's presence calls wait until it is in the store. */
  private async whenReady<T>(socket: GatewaySocket, work: (conn: LocalConnection) => Promise<T>): Promise<T> {
    const conn = this.local.get(socket.id);
    if (!conn) throw new GatewayError("UNAVAILABLE", "This connection is closing; reconnect.", { retryAfterMs: 1_000 });
    await conn.ready;
    return work(conn);
  }

  /** Changes (or, with no field, reads) who sees the caller's last seen and custom status. */
  private async setPrivacy(uid: string, change: Partial<PresencePrivacy>): Promise<{ privacy: PresencePrivacy }> {
    const store = this.deps.privacy;
    if (!store) throw new GatewayError("UNAVAILABLE", "Presence privacy settings are not configured on this gateway.");
    const given = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Partial<PresencePrivacy>;
    const privacy = Object.keys(given).length > 0 ? await store.update(uid, given) : (await store.settingsOf([uid])).get(uid)!;
    return { privacy };
  }

  private async update(conn: LocalConnection, { status, customStatus, appState }: z.output<typeof updateSchema>): Promise<{ presence: UserPresence }> {
    const now = this.now();
    if (appState) conn.foreground = appState === "foreground";
    if (appState === "foreground" || status) conn.lastActivityAt = now;
    if (this.shouldBeActive(conn, now) !== conn.active) {
      conn.active = !conn.active;
      await this.write(conn, now, false);
    }
    if (status !== undefined || customStatus !== undefined) {
      this.announce(await this.deps.store.setChosen(conn.ref.uid, { status, customStatus }, now));
      this.background(this.deps.records.choseStatus(conn.ref.uid, { status, customStatus: customStatus === "" ? null : customStatus }), "presence");
    }
    const [presence] = await this.deps.store.get([conn.ref.uid]);
    return { presence };
  }

  private async query(userIds: string[], viewer: string): Promise<{ presence: UserPresence[] }> {
    return { presence: await this.presenceFor(viewer, this.bounded(userIds)) };
  }

  /**
   * Presence as `viewer` may see it (issue 12): users it shares no conversation with, and users who blocked
   * it, are answered `offline` without details, exactly like an unknown id (ports/presence-visibility.ts, as
   * the HTTP API); the details of the others follow their privacy settings.
   */
  async presenceFor(viewer: string, uids: string[]): Promise<UserPresence[]> {
    const shown = await this.shownTo(viewer, uids);
    const presence = await this.redactFor(viewer, await this.presenceOf(shown));
    const byUser = new Map(presence.map((p) => [p.userId, p]));
    return uids.map((u): UserPresence => byUser.get(u) ?? { userId: u, status: "offline" });
  }

  /** The users among `uids` whose presence `viewer` may see: itself and its contacts, minus who blocked it. */
  private async shownTo(viewer: string, uids: string[]): Promise<string[]> {
    const [visible, blockers] = await Promise.all([this.visibility.visibleAmong(viewer, uids), this.visibility.maskedFor(viewer)]);
    return uids.filter((u) => visible.has(u) && !blockers.has(u));
  }

  /** Drops last seen / custom status the user shows only to direct contacts (when the viewer is not one) or to nobody. */
  private async redactFor(viewer: string, presence: UserPresence[]): Promise<UserPresence[]> {
    const detailed = presence.filter((p) => p.userId !== viewer && (p.lastSeen !== undefined || p.customStatus !== undefined));
    if (detailed.length === 0 || !this.deps.privacy) return presence;
    const contacts = this.deps.contacts;
    const allowed = await allowedDetails(viewer, detailed.map((p) => p.userId), this.deps.privacy, contacts.directContactsOf?.bind(contacts));
    return presence.map((p) => (allowed.has(p.userId) ? withoutHidden(p, allowed.get(p.userId)!) : p));
  }

  private async withoutBlockers(viewer: string, uids: string[]): Promise<string[]> {
    if (!this.deps.blocks || uids.length === 0) return uids;
    const blockers = await this.deps.blocks.blockersOf(viewer);
    return blockers.size === 0 ? uids : uids.filter((u) => !blockers.has(u));
  }

  private async subscribe(conn: LocalConnection, userIds: string[]): Promise<{ presence: UserPresence[] }> {
    const uids = this.bounded(userIds);
    const total = new Set([...conn.subscriptions, ...uids]).size;
    const max = this.ctx.config.presenceMaxQueryUsers;
    if (total > max) throw new GatewayError("INVALID_ARGUMENT", `userIds: a connection may follow at most ${max} users`);
    uids.forEach((uid) => conn.subscriptions.add(uid));
    const watchable = (await this.shownTo(conn.socket.data.uid, uids)).filter((u) => u !== conn.socket.data.uid);
    if (watchable.length > 0) conn.socket.join(watchable.map(presenceRoom));
    return { presence: await this.presenceFor(conn.socket.data.uid, uids) };
  }

  private async unsubscribe(conn: LocalConnection, userIds: string[]): Promise<object> {
    for (const uid of this.bounded(userIds)) {
      conn.subscriptions.delete(uid);
      if (!conn.contactRooms.has(presenceRoom(uid))) conn.socket.leave(presenceRoom(uid));
    }
    return {};
  }

  private bounded(userIds: string[]): string[] {
    const max = this.ctx.config.presenceMaxQueryUsers;
    if (userIds.length > max) throw new GatewayError("INVALID_ARGUMENT", `userIds: at most ${max} users per call`);
    return [...new Set(userIds)];
  }

  /** Presence from the store; lastSeen of offline users the store no longer remembers comes from `users/{uid}`. */
  private async presenceOf(uids: string[]): Promise<UserPresence[]> {
    const presence = await this.deps.store.get(uids);
    const unknown = presence.filter((p) => p.status === "offline" && p.lastSeen === undefined).map((p) => p.userId);
    if (unknown.length === 0) return presence;
    const lastSeen = await this.deps.records.lastSeenOf(unknown).catch(() => new Map<string, number>());
    return presence.map((p) => (lastSeen.has(p.userId) && p.lastSeen === undefined ? { ...p, lastSeen: lastSeen.get(p.userId) } : p));
  }

  private watchContacts(conn: LocalConnection, contacts: string[]): void {
    conn.contactRooms = new Set(contacts.map(presenceRoom));
    if (conn.contactRooms.size > 0) conn.socket.join([...conn.contactRooms]);
  }

  private async refresh(conn: LocalConnection): Promise<void> {
    const now = this.now();
    if (conn.closed || now - conn.lastRefreshAt < this.refreshGapMs) return;
    conn.lastRefreshAt = now;
    await conn.ready
      .then(() => this.write(conn, now, true))
      .catch((error) => this.warn("heartbeat", error));
  }

  /** Writes the connection (a fresh expiry when `extend`, else its current one) and announces a change. */
  private async write(conn: LocalConnection, now: number, extend: boolean): Promise<void> {
    if (conn.closed) return;
    if (extend || conn.expiresAt === 0) conn.expiresAt = now + this.ctx.config.presenceTtlMs;
    this.announce(await this.deps.store.upsertConnection(conn.ref, conn.expiresAt, conn.active, now));
  }

  private noteActivity(conn: LocalConnection): void {
    const now = this.now();
    conn.lastActivityAt = now;
    if (!conn.active && this.shouldBeActive(conn, now)) {
      conn.active = true;
      void conn.ready.then(() => this.write(conn, now, false)).catch((e) => this.warn("activity", e));
    }
    void this.recordActivity(conn.ref.uid, now);
  }

  /** `users/{uid}.lastActiveAt`, at most once per `presenceLastActiveWriteMs` per user across instances. */
  private async recordActivity(uid: string, now: number): Promise<void> {
    const interval = this.ctx.config.presenceLastActiveWriteMs;
    if (now - (this.lastActiveWritten.get(uid) ?? 0) < interval) return;
    this.lastActiveWritten.set(uid, now);
    try {
      if (await this.deps.store.claimOnce(`active:${uid}`, interval)) await this.deps.records.wasActive(uid, now);
    } catch (error) {
      this.warn("lastActiveAt", error);
    }
  }

  private shouldBeActive(conn: LocalConnection, now: number): boolean {
    return conn.foreground && now - conn.lastActivityAt < this.ctx.config.presenceIdleAfterMs;
  }

  /** Idle connections become inactive (the user shows away), then expired connections are swept. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      for (const conn of this.local.values()) {
        if (this.shouldBeActive(conn, now) === conn.active) continue;
        conn.active = !conn.active;
        await this.write(conn, now, false);
      }
      const changes = await this.deps.store.sweepExpired(now, this.ctx.config.presenceTtlMs, SWEEP_BATCH);
      changes.forEach((change) => this.announce(change));
      this.lastSweepAt = now;
      this.forgetOldActivityWrites(now);
    } catch (error) {
      this.warn("sweep", error);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * One emit to one room: with the sharded adapter it travels on that room's own channel and reaches
   * only the instances holding a watcher, and a socket in the room gets it once.
   */
  private announce(change: PresenceChange): void {
    if (!change.changed) return;
    const payload: PresenceUpdatePayload = { userId: change.uid, status: change.after, timestamp: this.now() };
    if (change.customStatus) payload.customStatus = change.customStatus;
    if (change.after === "offline" && change.lastSeen !== undefined) {
      payload.lastSeen = change.lastSeen;
      this.background(this.deps.records.wentOffline(change.uid, change.lastSeen), "lastSeen");
    }
    this.emitAnnouncement(payload);
  }

  /**
   * `except` keeps the user's own sockets out (watchEachOther may put them in their own room); the emit
   * still names one room, so it keeps that room's own channel. A detail the user shows to fewer people than
   * everyone (privacy) is left out of the broadcast; those allowed read it with get_presence.
   */
  private emitAnnouncement(payload: PresenceUpdatePayload): void {
    const uid = payload.userId;
    const previous = this.announcing.get(uid) ?? Promise.resolve();
    const next = previous
      .then(() => this.publicDetails(payload))
      .then((shown) => void this.ctx.io.to(presenceRoom(uid)).except(userRoom(uid)).emit("presence_update", shown));
    this.announcing.set(uid, next);
    void next.finally(() => this.announcing.get(uid) === next && this.announcing.delete(uid));
  }

  private async publicDetails(payload: PresenceUpdatePayload): Promise<PresenceUpdatePayload> {
    if (!this.deps.privacy || (payload.lastSeen === undefined && payload.customStatus === undefined)) return payload;
    const settings = await this.deps.privacy.settingsOf([payload.userId]).catch(() => undefined);
    const privacy = settings?.get(payload.userId);
    // Settings unreadable: fail closed, no details.
    return withoutHidden(payload, { lastSeen: privacy?.lastSeen === "everyone", customStatus: privacy?.customStatus === "everyone" });
  }

  /** Heartbeats and pongs both refresh; more than a few writes per TTL add nothing. */
  private get refreshGapMs(): number {
    return Math.min(this.ctx.config.heartbeatIntervalMs, this.ctx.config.presenceTtlMs / 3) / 2;
  }

  private forgetOldActivityWrites(now: number): void {
    const interval = this.ctx.config.presenceLastActiveWriteMs;
    for (const [uid, at] of this.lastActiveWritten) if (now - at >= interval) this.lastActiveWritten.delete(uid);
  }

  private background(work: Promise<unknown>, what: string): void {
    work.catch((error) => this.warn(what, error));
  }

  private warn(what: string, error: unknown): void {
    this.ctx.logger.warn(`presence: ${what} failed`, { error: String(error) });
  }

  private now(): number {
    return this.ctx.clock.now();
  }
}

function withoutHidden<P extends UserPresence>(presence: P, allowed: { lastSeen: boolean; customStatus: boolean }): P {
  const shown = { ...presence };
  if (!allowed.lastSeen) delete shown.lastSeen;
  if (!allowed.customStatus) delete shown.customStatus;
  return shown;
}

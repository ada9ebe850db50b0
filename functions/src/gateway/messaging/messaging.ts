import { createHash } from "node:crypto";
import { GatewayError } from "../../errors";
import type { ChatMessage, ConversationSummary, SendMessageResult } from "../../protocol";
import { Conversation, directConversationId, MessageStore, QueueEntry } from "../../ports/message-store";
import type { RateLimiter } from "../../ports/rate-limiter";
import type { RoutedLedger } from "../../ports/routed-ledger";
import type { SequenceAllocator } from "../../ports/sequence";
import type { UserDirectory } from "../../ports/user-directory/user-directory";
import { registerCall, withTimeout } from "../calls";
import { watchEachOther } from "../presence";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import { MembershipCache } from "./membership";
import { conversationRoom } from "./rooms";
import { MessagingStats } from "./messaging-stats";
import { typingFeature } from "./typing";
import {
  conversationRefSchema,
  createGroupSchema,
  emptySchema,
  historySchema,
  membersChangeSchema,
  parsePayload,
  receiptSchema,
  sendMessageSchema,
} from "./schemas";

export interface MessagingPorts {
  store: MessageStore;
  sequences: SequenceAllocator;
  rateLimiter: RateLimiter;
  users: UserDirectory;
  routed: RoutedLedger;
}


/** When, after Redis returns, clients are told to resync and queued messages are handed over. */
const REDIS_RECOVERY_PASSES_MS = [1_000, 6_000];

/** Results of recent sends by (sender, clientId): a resend answers at once, without a store call. */
const RECENT_SENDS = 10_000;

/**
 * TALOWA's message router: send (validate, authorise, rate-limit, sequence, persist, then ack),
 * fan-out to every online device, the offline queue, receipts, history and group management.
 */
export function messagingFeatures(ports: MessagingPorts): Array<(ctx: GatewayContext) => GatewayFeature> {
  let messaging: Messaging | undefined;
  return [
    (ctx) => (messaging = new Messaging(ctx, ports)),
    typingFeature({ rateLimiter: ports.rateLimiter, membership: () => messaging!.membership }),
  ];
}

class Messaging implements GatewayFeature {
  readonly name = "messaging";
  readonly membership: MembershipCache;
  private readonly stats_: MessagingStats;
  private readonly recentSends = new Map<string, SendMessageResult>();
  private readonly creatingDirect = new Map<string, Promise<Conversation>>();
  /** Sockets whose offline queue did not fit one flush, with the entries already sent to them. */
  private readonly queueFlushes = new Map<string, Set<string>>();
  private stopped = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: MessagingPorts,
  ) {
    this.membership = new MembershipCache(ports.store, ctx.io, ctx.clock, ctx.config.membershipCacheMs);
    this.stats_ = new MessagingStats(() => ctx.clock.now());
    ctx.services.events?.on("redis-up", () => this.afterRedisOutage());
  }

  /**
   * Instances notice Redis coming back at slightly different times, so messages can still be queued for
   * (or miss) users connected here for a few seconds after this instance's own recovery: hand over what
   * is queued, and tell the clients to catch up from their last seq, twice, a little apart.
   */
  private afterRedisOutage(): void {
    for (const delayMs of REDIS_RECOVERY_PASSES_MS) {
      setTimeout(() => {
        if (this.stopped) return;
        this.ctx.io.local.emit("resync", { reason: "redis-recovered" });
        void this.redeliverQueuedToLocalUsers();
      }, delayMs).unref();
    }
  }

  /**
   * While Redis was away, users on other instances looked offline from here, so their messages went to
   * the offline queue. Once Redis is back, every instance hands its connected users what is queued for them.
   */
  private async redeliverQueuedToLocalUsers(): Promise<void> {
    const users = new Set([...this.ctx.io.of("/").sockets.values()].map((s) => s.data.uid));
    for (const uid of users) {
      try {
        const pending = await this.ports.store.pendingFor(uid, this.ctx.config.offlineFlushLimit);
        for (const entry of pending) this.ctx.io.local.to(userRoom(uid)).emit("new_message", entry.message);
      } catch (error) {
        this.ctx.logger.warn("redelivery after redis recovery failed", { uid, error: String(error) });
      }
    }
  }

  /** Before the socket connects: its conversations (to join their rooms) and its offline queue. */
  async prepare(socket: GatewaySocket): Promise<void> {
    const { uid } = socket.data;
    const [conversations, pending] = await Promise.all([
      this.store(this.ports.store.conversationsOf(uid), "loading conversations"),
      this.store(this.ports.store.pendingFor(uid, this.ctx.config.offlineFlushLimit), "loading the offline queue"),
    ]);
    socket.data.prepared!.conversations = conversations;
    socket.data.prepared!.pending = pending;
  }

  onConnection(socket: GatewaySocket): void {
    const call = (event: string, handler: (payload: unknown) => Promise<object | void>) =>
      registerCall(socket, event, handler, { logger: this.ctx.logger, countError: (code) => this.stats_.error(code) });
    call("send_message", (p) => this.send(socket, p));
    call("mark_delivered", (p) => this.markReceipt(socket, p, "delivered"));
    call("mark_read", (p) => this.markReceipt(socket, p, "read"));
    call("fetch_history", (p) => this.history(socket, p));
    call("create_group", (p) => this.createGroup(socket, p));
    call("add_members", (p) => this.changeMembers(socket, p, "add"));
    call("remove_members", (p) => this.changeMembers(socket, p, "remove"));
    call("list_conversations", (p) => this.listConversations(socket, p));
    call("get_receipts", (p) => this.receipts(socket, p));
    this.joinAndFlush(socket);
  }

  /**
   * Synchronous on purpose: joining the rooms and emitting the queued messages happen in one tick,
   * so no live message can overtake a queued one of the same conversation.
   */
  private joinAndFlush(socket: GatewaySocket): void {
    const conversations = (socket.data.prepared?.conversations ?? []) as Conversation[];
    const groupRooms = conversations.filter((c) => c.type === "group").map((c) => conversationRoom(c.id));
    if (groupRooms.length > 0) socket.join(groupRooms);
    for (const conversation of conversations) this.membership.remember(conversation);
    const pending = (socket.data.prepared?.pending ?? []) as QueueEntry[];
    this.emitQueued(socket, pending);
    if (pending.length >= this.ctx.config.offlineFlushLimit) this.queueFlushes.set(socket.id, new Set(pending.map((e) => e.messageId)));
    delete socket.data.prepared;
  }

  private emitQueued(socket: GatewaySocket, entries: QueueEntry[]): void {
    for (const entry of entries) socket.emit("new_message", entry.message);
  }

  /** A queue longer than one flush: once the client confirms, the next entries follow (never one twice). */
  private async continueFlush(socket: GatewaySocket): Promise<void> {
    const sent = this.queueFlushes.get(socket.id);
    if (!sent) return;
    const next = (await this.ports.store.pendingFor(socket.data.uid, this.ctx.config.offlineFlushLimit)).filter((e) => !sent.has(e.messageId));
    if (next.length === 0) {
      this.queueFlushes.delete(socket.id);
      return;
    }
    for (const entry of next) sent.add(entry.messageId);
    this.emitQueued(socket, next);
  }

  onDisconnect(socket: GatewaySocket): void {
    this.queueFlushes.delete(socket.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  stats() {
    return this.stats_.snapshot();
  }

  // --- send -----------------------------------------------------------------------------------

  private async send(socket: GatewaySocket, raw: unknown): Promise<SendMessageResult> {
    const payload = parsePayload(sendMessageSchema, raw);
    const { uid, roles } = socket.data;
    const recentKey = `${uid}:${payload.clientId}`;
    const recent = this.recentSends.get(recentKey);
    if (recent) {
      this.stats_.duplicate();
      return { ...recent, duplicate: true };
    }
    this.checkSize(payload.content, payload.metadata);
    if (payload.type === "emergency" && !hasAnyRole(roles, this.ctx.config.emergencyRoles)) {
      throw new GatewayError("PERMISSION_DENIED", `Emergency messages need one of the roles: ${this.ctx.config.emergencyRoles.join(", ")}.`);
    }
    await this.enforceRate(uid, payload.type);
    const conversation = payload.recipientId
      ? await this.directConversation(uid, payload.recipientId)
      : await this.membership.requireMember(payload.conversationId!, uid);
    this.checkMayPost(conversation, uid, roles);
    if (payload.isAnonymous && conversation.type === "direct") {
      throw new GatewayError("INVALID_ARGUMENT", "isAnonymous: anonymous messages go to groups; a direct conversation names both members.");
    }

    const seq = await this.store(
      this.ports.sequences.next(conversation.id, () => this.ports.store.highestSeq(conversation.id)),
      "assigning a sequence number",
    );
    const recipients = conversation.members.filter((m) => m !== uid);
    const offline = await this.offlineAmong(recipients);
    const message: ChatMessage = {
      id: messageIdFor(uid, payload.clientId),
      conversationId: conversation.id,
      seq,
      senderId: payload.isAnonymous ? null : uid,
      type: payload.type,
      content: payload.content,
      encryptionLevel: payload.encryptionLevel,
      isAnonymous: payload.isAnonymous,
      clientId: payload.clientId,
      clientTimestamp: payload.timestamp ?? null,
      createdAt: this.ctx.clock.now(),
      metadata: payload.metadata ?? {},
    };
    const { message: stored, duplicate } = await this.store(
      this.ports.store.appendMessage(message, { queueFor: offline, realSenderId: payload.isAnonymous ? uid : undefined }),
      "storing the message",
    );
    const result: SendMessageResult = {
      messageId: stored.id,
      conversationId: stored.conversationId,
      seq: stored.seq,
      status: "sent",
      createdAt: stored.createdAt,
      duplicate,
    };
    this.rememberSend(recentKey, result);
    if (duplicate) {
      this.stats_.duplicate();
      // The first attempt may have been stored but never routed (it failed, or its instance died, in between).
      if (!(await this.ports.routed.wasRouted(stored.id))) this.route(socket, conversation, stored);
      return result;
    }
    this.route(socket, conversation, stored);
    this.stats_.messageSent(recipients.length, offline.length);
    return result;
  }

  /** Every online device of every member, the sender's other devices included; never the sending socket. */
  private route(socket: GatewaySocket, conversation: Conversation, message: ChatMessage): void {
    void this.ports.routed.markRouted(message.id);
    if (conversation.type === "group") {
      socket.to(conversationRoom(conversation.id)).emit("new_message", message);
      return;
    }
    // Direct: one emit per user room, so each goes on that room's own channel (sharded adapter).
    for (const member of conversation.members) socket.to(userRoom(member)).emit("new_message", message);
  }

  private async offlineAmong(recipients: string[]): Promise<string[]> {
    if (recipients.length === 0) return [];
    const online = this.ctx.services.online
      ? await this.ctx.services.online.onlineUsers(recipients).catch(() => this.locallyOnline(recipients))
      : this.locallyOnline(recipients);
    return recipients.filter((r) => !online.has(r));
  }

  /** Without a presence service (single instance): users with a socket in their room here. */
  private locallyOnline(uids: string[]): Set<string> {
    const rooms = this.ctx.io.of("/").adapter.rooms;
    return new Set(uids.filter((uid) => (rooms.get(userRoom(uid))?.size ?? 0) > 0));
  }

  private async directConversation(uid: string, recipientId: string): Promise<Conversation> {
    if (recipientId === uid) throw new GatewayError("INVALID_ARGUMENT", "recipientId: you cannot message yourself.");
    const id = directConversationId(uid, recipientId);
    const known = await this.membership.get(id);
    if (known) return known;
    // Concurrent first messages of one pair create the conversation once.
    let creating = this.creatingDirect.get(id);
    if (!creating) {
      creating = this.createDirect(id, uid, recipientId).finally(() => this.creatingDirect.delete(id));
      this.creatingDirect.set(id, creating);
    }
    return creating;
  }

  private async createDirect(id: string, uid: string, recipientId: string): Promise<Conversation> {
    const exists = await this.store(this.ports.users.existing([recipientId]), "looking up the recipient");
    if (!exists.has(recipientId)) throw new GatewayError("NOT_FOUND", `No user ${recipientId}.`);
    const now = this.ctx.clock.now();
    const conversation = await this.store(
      this.ports.store.createConversation({
        id,
        type: "direct",
        name: null,
        members: [uid, recipientId].sort(),
        admins: [],
        announcement: false,
        postingRoles: [],
        createdBy: uid,
        createdAt: now,
      }),
      "creating the conversation",
    );
    this.membership.changed(conversation);
    watchEachOther(this.ctx.io, conversation.members);
    this.notifyMembers(conversation, conversation.members);
    return conversation;
  }

  private checkMayPost(conversation: Conversation, uid: string, roles: string[]): void {
    if (!conversation.announcement) return;
    if (conversation.admins.includes(uid) || hasAnyRole(roles, conversation.postingRoles)) return;
    throw new GatewayError("PERMISSION_DENIED", "Only the group's admins and the roles it names may post in this announcement group.");
  }

  private checkSize(content: string, metadata: Record<string, unknown> | undefined): void {
    const { maxContentBytes, maxMetadataBytes } = this.ctx.config;
    if (Buffer.byteLength(content, "utf8") > maxContentBytes) {
      throw new GatewayError("PAYLOAD_TOO_LARGE", `content is larger than ${maxContentBytes} bytes.`);
    }
    if (metadata && Buffer.byteLength(JSON.stringify(metadata), "utf8") > maxMetadataBytes) {
      throw new GatewayError("PAYLOAD_TOO_LARGE", `metadata is larger than ${maxMetadataBytes} bytes.`);
    }
  }

  private async enforceRate(uid: string, kind: string): Promise<void> {
    const rule = this.ctx.config.rateLimits[kind];
    if (!rule) return;
    const decision = await this.ports.rateLimiter.consume(`${kind}:${uid}`, rule.limit, rule.windowMs);
    if (!decision.allowed) {
      throw new GatewayError("RATE_LIMITED", `At most ${rule.limit} ${kind} per ${rule.windowMs / 1000} s; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s.`, {
        retryAfterMs: decision.retryAfterMs,
      });
    }
  }

  private rememberSend(key: string, result: SendMessageResult): void {
    if (this.recentSends.size >= RECENT_SENDS) this.recentSends.delete(this.recentSends.keys().next().value!);
    this.recentSends.set(key, { ...result, duplicate: false });
  }

  // --- receipts -------------------------------------------------------------------------------

  private async markReceipt(socket: GatewaySocket, raw: unknown, status: "delivered" | "read") {
    const { conversationId, upToSeq } = parsePayload(receiptSchema, raw);
    const { uid } = socket.data;
    await this.membership.requireMember(conversationId, uid);
    const store = this.ports.store;
    const highest = await this.store(store.highestSeq(conversationId), "reading the conversation");
    const target = Math.min(upToSeq, highest);
    const now = this.ctx.clock.now();
    const field = status === "read" ? "readSeq" : "deliveredSeq";
    const { before, after } = await this.store(store.advanceReceipt(conversationId, uid, field, target, now), "storing the receipt");
    await this.store(store.markDelivered(uid, conversationId, after, now), "updating the offline queue");
    if (after > before) await this.notifySenders(conversationId, uid, status, before, after);
    await this.continueFlush(socket);
    return { upToSeq: after };
  }

  /** `message_delivery_status` to the senders of the messages this receipt covers (anonymous ones excepted). */
  private async notifySenders(conversationId: string, uid: string, status: "delivered" | "read", before: number, after: number) {
    const covered = await this.store(this.ports.store.sendersBetween(conversationId, before, after, 1_000), "reading senders");
    const bySender = new Map<string, string[]>();
    for (const { senderId, messageId } of covered) {
      if (!senderId || senderId === uid) continue;
      bySender.set(senderId, [...(bySender.get(senderId) ?? []), messageId]);
    }
    const timestamp = this.ctx.clock.now();
    for (const [sender, messageIds] of bySender) {
      this.ctx.io.to(userRoom(sender)).emit("message_delivery_status", { conversationId, userId: uid, status, upToSeq: after, messageIds, timestamp });
    }
    if (status === "delivered") this.stats_.deliveriesConfirmedFor(covered.filter((c) => c.senderId !== uid).length);
  }

  private async receipts(socket: GatewaySocket, raw: unknown) {
    const { conversationId } = parsePayload(conversationRefSchema, raw);
    const conversation = await this.membership.requireMember(conversationId, socket.data.uid);
    const stored = await this.store(this.ports.store.receipts(conversationId), "reading receipts");
    const byUser = new Map(stored.map((r) => [r.userId, r]));
    return { receipts: conversation.members.map((m) => byUser.get(m) ?? { userId: m, deliveredSeq: 0, readSeq: 0 }) };
  }

  // --- history --------------------------------------------------------------------------------

  private async history(socket: GatewaySocket, raw: unknown) {
    const query = parsePayload(historySchema, raw);
    await this.membership.requireMember(query.conversationId, socket.data.uid);
    const limit = Math.min(query.limit ?? 50, this.ctx.config.historyPageMax);
    const page = await this.store(
      this.ports.store.history(query.conversationId, { beforeSeq: query.beforeSeq, afterSeq: query.afterSeq, limit: limit + 1 }),
      "reading history",
    );
    const hasMore = page.length > limit;
    const messages = query.afterSeq !== undefined ? page.slice(0, limit) : page.slice(page.length - Math.min(limit, page.length));
    return { messages, hasMore };
  }

  // --- groups ---------------------------------------------------------------------------------

  private async createGroup(socket: GatewaySocket, raw: unknown) {
    const payload = parsePayload(createGroupSchema, raw);
    const { uid, roles } = socket.data;
    if (payload.announcement && !hasAnyRole(roles, this.ctx.config.announcementRoles)) {
      throw new GatewayError("PERMISSION_DENIED", `Announcement groups need one of the roles: ${this.ctx.config.announcementRoles.join(", ")}.`);
    }
    const members = [...new Set([uid, ...payload.memberIds])];
    this.checkGroupSize(members.length);
    await this.requireUsers(members.filter((m) => m !== uid));
    const now = this.ctx.clock.now();
    const conversation = await this.store(
      this.ports.store.createConversation({
        id: `grp_${createHash("sha256").update(`${uid}:${now}:${Math.random()}`).digest("hex").slice(0, 20)}`,
        type: "group",
        name: payload.name,
        members,
        admins: [uid],
        announcement: payload.announcement,
        postingRoles: payload.postingRoles,
        createdBy: uid,
        createdAt: now,
      }),
      "creating the group",
    );
    this.membership.changed(conversation);
    this.joinRooms(conversation, members);
    watchEachOther(this.ctx.io, members);
    this.notifyMembers(conversation, members);
    return { conversation: summary(conversation) };
  }

  private async changeMembers(socket: GatewaySocket, raw: unknown, change: "add" | "remove") {
    const { conversationId, memberIds } = parsePayload(membersChangeSchema, raw);
    const { uid, roles } = socket.data;
    const current = await this.membership.requireMember(conversationId, uid);
    if (current.type !== "group") throw new GatewayError("INVALID_ARGUMENT", "Members of a direct conversation cannot change.");
    const leavingAlone = change === "remove" && memberIds.length === 1 && memberIds[0] === uid;
    if (!leavingAlone && !current.admins.includes(uid) && !hasAnyRole(roles, this.ctx.config.moderatorRoles)) {
      throw new GatewayError("PERMISSION_DENIED", "Only the group's admins or moderators may change its members.");
    }
    if (change === "add") {
      this.checkGroupSize(new Set([...current.members, ...memberIds]).size);
      await this.requireUsers(memberIds);
    }
    const updated = await this.store(
      this.ports.store.updateMembers(conversationId, change === "add" ? { add: memberIds, remove: [] } : { add: [], remove: memberIds }, this.ctx.clock.now()),
      "updating members",
    );
    this.membership.changed(updated);
    if (change === "add") {
      this.joinRooms(updated, memberIds);
      watchEachOther(this.ctx.io, updated.members, memberIds);
    } else this.leaveRooms(updated, memberIds);
    this.notifyMembers(updated, updated.members);
    return { conversation: summary(updated) };
  }

  private async listConversations(socket: GatewaySocket, raw: unknown) {
    parsePayload(emptySchema, raw);
    const conversations = await this.store(this.ports.store.conversationsOf(socket.data.uid), "listing conversations");
    return { conversations: conversations.map(summary) };
  }

  private checkGroupSize(size: number): void {
    if (size > this.ctx.config.maxGroupMembers) {
      throw new GatewayError("INVALID_ARGUMENT", `memberIds: a group has at most ${this.ctx.config.maxGroupMembers} members.`);
    }
  }

  private async requireUsers(uids: string[]): Promise<void> {
    const existing = await this.store(this.ports.users.existing(uids), "looking up users");
    const missing = uids.filter((u) => !existing.has(u));
    if (missing.length > 0) throw new GatewayError("NOT_FOUND", `No such users: ${missing.slice(0, 10).join(", ")}.`);
  }

  private joinRooms(conversation: Conversation, uids: string[]): void {
    if (conversation.type !== "group") return;
    for (const uid of uids) this.ctx.io.in(userRoom(uid)).socketsJoin(conversationRoom(conversation.id));
  }

  private leaveRooms(conversation: Conversation, uids: string[]): void {
    for (const uid of uids) {
      this.ctx.io.in(userRoom(uid)).socketsLeave(conversationRoom(conversation.id));
      this.ctx.io.to(userRoom(uid)).emit("conversation_removed", { conversationId: conversation.id });
    }
  }

  private notifyMembers(conversation: Conversation, uids: string[]): void {
    for (const uid of uids) this.ctx.io.to(userRoom(uid)).emit("conversation_updated", summary(conversation));
  }

  /** A store call bounded in time; any store failure is UNAVAILABLE to the client, never a silent drop. */
  private async store<T>(operation: Promise<T>, what: string): Promise<T> {
    try {
      return await withTimeout(operation, this.ctx.config.storeTimeoutMs, what);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      this.ctx.logger.warn("store call failed", { what, error: String(error) });
      throw new GatewayError("UNAVAILABLE", `The message store failed while ${what}; retry later.`);
    }
  }
}

/** The same (sender, clientId) always names the same message: retries cannot store it twice. */
export function messageIdFor(uid: string, clientId: string): string {
  return `m_${createHash("sha256").update(`${uid}\u0000${clientId}`).digest("base64url").slice(0, 27)}`;
}

function hasAnyRole(roles: string[], allowed: string[]): boolean {
  return roles.some((r) => allowed.includes(r));
}

function summary(conversation: Conversation): ConversationSummary {
  const { id, type, name, members, admins, announcement, postingRoles, createdBy, createdAt } = conversation;
  return { id, type, name, members, admins, announcement, postingRoles, createdBy, createdAt };
}

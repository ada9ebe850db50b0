import { LRUCache } from "lru-cache";
import type { z } from "zod";
import { GatewayError } from "../../errors";
import { Conversation, directConversationId, MessageStore } from "../../ports/message-store";
import type { OnlineDirectory } from "../../ports/presence-store/presence-store";
import { RateLimiter, requireWithinLimit } from "../../ports/rate-limiter";
import type { QueueMarkers } from "../../ports/queue-markers";
import type { RoutedLedger } from "../../ports/routed-ledger";
import type { SequenceAllocator } from "../../ports/sequence";
import type { ChatMessage, SendMessageResult } from "../../protocol";
import { valueOf, valuesBy } from "../metrics";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { hasAnyRole } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { guardFirestoreMap } from "../payload-guard";
import { sendMessageSchema } from "./schemas";
import { storeCall } from "./store-calls";
import { replyRefFor } from "./replies";
import { checkAnonymous, messageIdFor, messageIdKey, sharedCopy } from "./message-ids";
import { RateWindow } from "../../util/rate-window";
import { BlockChecks, requireNoBlockBetween } from "../../ports/block-list";
import type { ConsentPolicy } from "./consent";

export interface SendingPorts {
  store: MessageStore;
  rateLimiter: RateLimiter;
  sequences: SequenceAllocator;
  routed: RoutedLedger;
  online: OnlineDirectory;
  /** Invalidated for the offline recipients before their queue entries are written. */
  markers: QueueMarkers;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** Direct messages across a block are refused (issue 14). */
  blocks?: BlockChecks;
  /** Who may message a user first (issue 12). */
  consent?: (ctx: GatewayContext) => Pick<ConsentPolicy, "requireMayMessageFirst">;
}

/** Results of recent sends by (sender, clientId): a resend answers at once, without a store call. */
const RECENT_SENDS = 10_000;

type SendPayload = z.output<typeof sendMessageSchema>;
type Prepared = { seq: number; recipients: string[]; offline: string[] };

/**
 * `send_message`: validate, authorise, rate-limit, sequence, persist (with offline-queue entries for
 * recipients who are offline), ack, then route to every online device of every member.
 */
export function sendingFeature(ports: SendingPorts) {
  return (ctx: GatewayContext): GatewayFeature => new Sending(ctx, ports);
}

class Sending implements GatewayFeature {
  readonly name = "sending";
  private readonly recentSends = new LRUCache<string, SendMessageResult>({ max: RECENT_SENDS });
  private readonly perSecond: RateWindow;
  private readonly conversations: ConversationDirectory;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: SendingPorts,
  ) {
    this.conversations = ports.conversations(ctx);
    this.perSecond = new RateWindow(() => ctx.clock.now());
    ctx.calls.define("send_message", { schema: sendMessageSchema, userAction: true, handle: (payload, socket) => this.send(socket, payload) });
  }

  async figures() {
    const m = this.ctx.metrics;
    const [messagesSent, duplicateSends, offlineQueued, deliveriesConfirmed, recipients, errorsByCode] = await Promise.all([
      valueOf(m.messagesSent),
      valueOf(m.duplicateSends),
      valueOf(m.queueWrites),
      valueOf(m.deliveriesConfirmed),
      valueOf(m.recipientsTargeted),
      valuesBy(m.events, "code", (labels) => labels.code !== "OK"),
    ]);
    const deliverySuccessRate = recipients === 0 ? null : Math.min(1, deliveriesConfirmed / recipients);
    return { messaging: { messagesSent, duplicateSends, offlineQueued, messagesPerSecond: this.perSecond.perSecond(), deliveriesConfirmed, deliverySuccessRate, errorsByCode } };
  }

  private async send(socket: GatewaySocket, payload: SendPayload): Promise<SendMessageResult> {
    const timer = this.ctx.metrics.sendLatency.startTimer();
    const { uid, roles } = socket.data;
    const recentKey = `${uid}:${payload.clientId}`;
    const recent = this.recentSends.get(recentKey);
    if (recent) {
      this.ctx.metrics.duplicateSends.inc();
      return { ...recent, duplicate: true };
    }
    // Past the bound on store work in flight, refuse at once (UNAVAILABLE, retryAfterMs) rather than queue.
    this.ctx.load.requireStoreCapacity();
    this.checkSize(payload.content, payload.metadata);
    if (payload.type === "emergency" && !hasAnyRole(roles, this.ctx.config.emergencyRoles)) {
      throw new GatewayError("PERMISSION_DENIED", `Emergency messages need one of the roles: ${this.ctx.config.emergencyRoles.join(", ")}.`);
    }
    // Limited by message type, after the resend check: a retry of a stored message costs no budget.
    const rule = this.ctx.config.rateLimits[payload.type];
    const withinLimit = () => (rule ? requireWithinLimit(this.ports.rateLimiter, `${payload.type}:${uid}`, rule, `${payload.type} messages`) : undefined);
    // The common case, a conversation this instance knows: the rate check, the sequence number and the
    // presence lookup go to Redis together (one auto-pipelined round trip). A refused send then leaves a
    // gap in the sequence, which clients never wait for (docs/DATA-MODEL.md). Otherwise the rate check
    // comes first, so floods cost no store read.
    const known = this.knownConversation(uid, payload);
    if (known) {
      this.checkMayPostHere(known, uid, roles, payload);
      const [, , prepared] = await Promise.all([withinLimit(), this.checkNotBlocked(uid, known), this.prepareStore(uid, known)]);
      return this.finish(socket, known, payload, prepared, timer);
    }
    await withinLimit();
    if (payload.recipientId && this.ports.blocks) await requireNoBlockBetween(this.ports.blocks, uid, payload.recipientId);
    if (payload.recipientId) await this.requireMayMessageFirst(uid, payload.recipientId);
    const conversation = payload.recipientId
      ? await this.conversations.direct(uid, payload.recipientId)
      : await this.conversations.requireMember(payload.conversationId!, uid);
    this.checkMayPostHere(conversation, uid, roles, payload);
    if (!payload.recipientId) await this.checkNotBlocked(uid, conversation);
    return this.finish(socket, conversation, payload, await this.prepareStore(uid, conversation), timer);
  }

  private async finish(socket: GatewaySocket, conversation: Conversation, payload: SendPayload, prepared: Prepared, timer: () => void) {
    const result = await this.store(socket, conversation, payload, prepared);
    timer();
    return result;
  }

  /** Issue 12 (consent): opening a direct conversation follows the recipient's consent policy; replies never ask. */
  private async requireMayMessageFirst(uid: string, recipientId: string): Promise<void> {
    if (!this.ports.consent || recipientId === uid) return;
    if (await this.conversations.get(directConversationId(uid, recipientId))) return;
    await this.ports.consent(this.ctx).requireMayMessageFirst(uid, recipientId);
  }

  /** Issue 14: a direct conversation across a block (either direction) is closed. */
  private async checkNotBlocked(uid: string, conversation: Conversation): Promise<void> {
    if (conversation.type !== "direct" || !this.ports.blocks) return;
    await requireNoBlockBetween(this.ports.blocks, uid, conversation.members.find((m) => m !== uid) ?? uid);
  }

  /** A cached conversation the sender is a member of, or nothing (then the slow path decides). */
  private knownConversation(uid: string, payload: SendPayload): Conversation | undefined {
    const id = payload.recipientId ? (payload.recipientId === uid ? undefined : directConversationId(uid, payload.recipientId)) : payload.conversationId;
    const conversation = id ? this.conversations.cached(id) : undefined;
    return conversation && conversation.members.includes(uid) ? conversation : undefined;
  }

  private checkMayPostHere(conversation: Conversation, uid: string, roles: string[], payload: SendPayload): void {
    this.checkMayPost(conversation, uid, roles);
    if (payload.isAnonymous && conversation.type === "direct") {
      throw new GatewayError("INVALID_ARGUMENT", "isAnonymous: anonymous messages go to groups; a direct conversation names both members.");
    }
    checkAnonymous(payload, messageIdKey(this.ctx.config));
  }

  /** The sequence number and who is offline, asked at the same time. */
  private async prepareStore(uid: string, conversation: Conversation): Promise<Prepared> {
    const recipients = conversation.members.filter((m) => m !== uid);
    const [seq, offline] = await Promise.all([
      storeCall(this.ctx, this.ports.sequences.next(conversation.id, () => this.ports.store.highestSeq(conversation.id)), "assigning a sequence number"),
      this.offlineAmong(recipients),
    ]);
    return { seq, recipients, offline };
  }

  private async store(socket: GatewaySocket, conversation: Conversation, payload: SendPayload, prepared: Prepared): Promise<SendMessageResult> {
    const { uid } = socket.data;
    const { seq, recipients, offline } = prepared;
    const message: ChatMessage = sharedCopy({
      id: messageIdFor(uid, payload.clientId, messageIdKey(this.ctx.config)),
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
    });
    const mentions = mentionedMembers(payload.mentions, conversation, uid);
    if (mentions.length > 0) message.mentions = mentions;
    if (payload.replyToId) message.replyTo = await replyRefFor(this.ctx, this.ports.store, conversation.id, payload.replyToId);
    // Before the entries exist: a recipient's "known empty" mark must never outlive them (QueueMarkers).
    if (offline.length > 0) await this.ports.markers.queueing(offline);
    const { message: stored, duplicate } = await storeCall(
      this.ctx,
      this.ports.store.appendMessage(message, { queueFor: offline, realSenderId: payload.isAnonymous ? uid : undefined }),
      "storing the message",
    );
    const result: SendMessageResult = { messageId: stored.id, conversationId: stored.conversationId, seq: stored.seq, status: "sent", createdAt: stored.createdAt, duplicate };
    this.recentSends.set(`${uid}:${payload.clientId}`, { ...result, duplicate: false });
    if (duplicate) {
      this.ctx.metrics.duplicateSends.inc();
      // The first attempt may have been stored but never routed (it failed, or its instance died, in between).
      if (!(await this.ports.routed.wasRouted(stored.id))) this.route(socket, conversation, stored);
      return result;
    }
    this.route(socket, conversation, stored);
    this.countSent(recipients.length, offline.length);
    void this.ctx.hooks.emit("messageStored", { message: stored, conversation, senderId: uid, offline, socket });
    return result;
  }

  private countSent(recipients: number, queued: number): void {
    const m = this.ctx.metrics;
    m.messagesSent.inc();
    m.recipientsTargeted.inc(recipients);
    m.queueWrites.inc(queued);
    m.fanout.observe(recipients);
    this.perSecond.add(1);
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
    const online = await this.ports.online.onlineUsers(recipients).catch(() => this.locallyOnline(recipients));
    return recipients.filter((r) => !online.has(r));
  }

  /** When presence cannot answer: users with a socket in their room on this instance. */
  private locallyOnline(uids: string[]): Set<string> {
    const rooms = this.ctx.io.of("/").adapter.rooms;
    return new Set(uids.filter((uid) => (rooms.get(userRoom(uid))?.size ?? 0) > 0));
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
    if (metadata) guardFirestoreMap(metadata, "metadata");
    if (metadata && Buffer.byteLength(JSON.stringify(metadata), "utf8") > maxMetadataBytes) {
      throw new GatewayError("PAYLOAD_TOO_LARGE", `metadata is larger than ${maxMetadataBytes} bytes.`);
    }
  }
}


/** Issue 15: the mentioned uids that are other members of the conversation, once each, in the order given. */
function mentionedMembers(mentions: string[] | undefined, conversation: Conversation, senderId: string): string[] {
  if (!mentions) return [];
  return [...new Set(mentions)].filter((m) => m !== senderId && conversation.members.includes(m));
}

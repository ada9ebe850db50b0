import { randomBytes } from "node:crypto";
import type { z } from "zod";
import { GatewayError } from "../../errors";
import { BlockChecks, requireNoBlockBetween } from "../../ports/block-list";
import type { Conversation, MessageStore, StoredMessage } from "../../ports/message-store";
import type { OnlineDirectory } from "../../ports/presence-store/presence-store";
import type { QueueMarkers } from "../../ports/queue-markers";
import type { SequenceAllocator } from "../../ports/sequence";
import type { ChatMessage, ConversationEventResult, ConversationEventType, MessageType, ReplyRef } from "../../protocol";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "../types";
import { ConversationDirectory, hasAnyRole } from "./conversation-directory";
import { offlineAmong, routeToMembers } from "./delivery";
import { isConversationEvent, previewOf } from "./replies";
import { editMessageSchema, messageRefSchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface ConversationEventsPorts {
  store: MessageStore;
  sequences: SequenceAllocator;
  online: OnlineDirectory;
  markers: QueueMarkers;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** An edit in a direct conversation across a block is refused, like a send. */
  blocks?: BlockChecks;
}

type EditPayload = z.output<typeof editMessageSchema>;
type RefPayload = z.output<typeof messageRefSchema>;

/** What a changed target and its event need to be stored. */
interface Change {
  conversation: Conversation;
  event: ChatMessage;
  target: StoredMessage;
  /** The caller, when the event is anonymous (its moderation record). */
  realSenderId?: string;
  moderation?: Record<string, unknown>;
  replyRef: ReplyRef;
}

/**
 * Issue 14: `edit_message` and `delete_message` as sequenced conversation events (Matrix style). Each
 * takes the next seq of the conversation (the allocator of send_message), is stored as a message of
 * type `edit` / `delete` naming its `targetId`, reaches online members as `new_message` and offline
 * members through the offline queue, and shows in `fetch_history`, in order with everything else. The
 * target document changes in the same commit: edited content and `editedAt`, or a tombstone.
 */
export function conversationEventsFeature(ports: ConversationEventsPorts) {
  return (ctx: GatewayContext): GatewayFeature => new ConversationEvents(ctx, ports);
}

class ConversationEvents implements GatewayFeature {
  readonly name = "conversation-events";
  private readonly conversations: ConversationDirectory;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: ConversationEventsPorts,
  ) {
    this.conversations = ports.conversations(ctx);
    this.defineCalls();
  }

  private defineCalls(): void {
    this.ctx.calls.define("edit_message", { schema: editMessageSchema, userAction: true, handle: (p, socket) => this.edit(socket, p) });
    this.ctx.calls.define("delete_message", { schema: messageRefSchema, userAction: true, handle: (p, socket) => this.remove(socket, p) });
  }

  private async edit(socket: GatewaySocket, payload: EditPayload): Promise<ConversationEventResult> {
    const { uid } = socket.data;
    this.checkContentSize(payload.content);
    const conversation = await this.conversations.requireMember(payload.conversationId, uid);
    await this.checkNotBlocked(uid, conversation);
    const target = await this.requireTarget(payload.conversationId, payload.messageId);
    if (target.type !== "text") throw new GatewayError("INVALID_ARGUMENT", "messageId: only text messages can be edited.");
    if (!(await this.isSender(uid, target))) throw new GatewayError("PERMISSION_DENIED", "Only the sender may edit a message.");
    const now = this.ctx.clock.now();
    const windowMs = this.ctx.config.messageEditWindowSeconds * 1000;
    if (windowMs === 0 || now - target.createdAt > windowMs) {
      throw new GatewayError("PERMISSION_DENIED", `A message can be edited for ${this.ctx.config.messageEditWindowSeconds} seconds after it was sent.`);
    }
    const edited: StoredMessage = { ...target, content: payload.content, editedAt: now };
    const event = this.eventFor("edit", uid, target, payload.content, now);
    const replyRef = { id: target.id, senderId: target.senderId, type: target.type as MessageType, preview: previewOf(edited) };
    return this.commit(socket, { conversation, event, target: edited, replyRef, ...this.moderationOf(uid, target, event, { editedAt: now }) });
  }

  private async remove(socket: GatewaySocket, payload: RefPayload): Promise<ConversationEventResult> {
    const { uid, roles } = socket.data;
    const conversation = await this.conversations.requireMember(payload.conversationId, uid);
    const target = await this.requireTarget(payload.conversationId, payload.messageId);
    const moderating = conversation.type === "group" && (conversation.admins.includes(uid) || hasAnyRole(roles, this.ctx.config.moderatorRoles));
    const sender = await this.isSender(uid, target);
    if (!sender && !moderating) throw new GatewayError("PERMISSION_DENIED", "Only the sender, a group admin or a moderator may delete a message.");
    const now = this.ctx.clock.now();
    // A moderator deleting someone's anonymous message is named; the anonymous sender deleting its own is not.
    const event = this.eventFor("delete", uid, sender ? target : { ...target, isAnonymous: false }, "", now);
    const note = { deletedAt: now, deletedBy: uid };
    const replyRef = { id: target.id, senderId: target.senderId, type: target.type as MessageType, preview: null, deleted: true as const };
    return this.commit(socket, { conversation, event, target: tombstoneOf(target, now), replyRef, ...this.moderationOf(uid, target, event, note) });
  }

  /** A message of the conversation that is neither an event nor deleted; NOT_FOUND / INVALID_ARGUMENT otherwise. */
  private async requireTarget(conversationId: string, messageId: string): Promise<StoredMessage> {
    const target = await storeCall(this.ctx, this.ports.store.getMessage(conversationId, messageId), "reading the message");
    if (!target || isConversationEvent(target.type)) throw new GatewayError("NOT_FOUND", `messageId: no message ${messageId} in this conversation.`);
    if (target.deleted) throw new GatewayError("INVALID_ARGUMENT", "messageId: this message was deleted.");
    return target;
  }

  /** The sender of the target; for an anonymous one, the moderation record says who. */
  private async isSender(uid: string, target: StoredMessage): Promise<boolean> {
    if (target.senderId !== null) return target.senderId === uid;
    const real = await storeCall(this.ctx, this.ports.store.realSenderOf(target.id), "reading the message");
    return real === uid;
  }

  /** The event message: anonymous (like its target) when the anonymous sender itself acts. */
  private eventFor(type: ConversationEventType, uid: string, target: StoredMessage, content: string, now: number): ChatMessage {
    const anonymous = target.isAnonymous;
    return {
      id: `e_${randomBytes(18).toString("base64url")}`,
      conversationId: target.conversationId,
      seq: 0,
      senderId: anonymous ? null : uid,
      type,
      content,
      encryptionLevel: target.encryptionLevel,
      isAnonymous: anonymous,
      clientId: "",
      clientTimestamp: null,
      createdAt: now,
      metadata: {},
      targetId: target.id,
    };
  }

  /** Anonymous targets: moderation keeps the original content (first edit or deletion) and what happened. */
  private moderationOf(uid: string, target: StoredMessage, event: ChatMessage, note: Record<string, unknown>) {
    const realSenderId = event.isAnonymous ? uid : undefined;
    if (!target.isAnonymous) return { realSenderId };
    const original = target.editedAt === undefined ? { originalContent: target.content } : {};
    return { realSenderId, moderation: { ...original, ...note } };
  }

  private async commit(socket: GatewaySocket, change: Change): Promise<ConversationEventResult> {
    const { uid } = socket.data;
    const { conversation, event } = change;
    const recipients = conversation.members.filter((m) => m !== uid);
    const [seq, offline] = await Promise.all([
      storeCall(this.ctx, this.ports.sequences.next(conversation.id, () => this.ports.store.highestSeq(conversation.id)), "assigning a sequence number"),
      offlineAmong(this.ctx, this.ports.online, recipients),
    ]);
    event.seq = seq;
    if (offline.length > 0) await this.ports.markers.queueing(offline);
    await storeCall(
      this.ctx,
      this.ports.store.appendEvent(event, { queueFor: offline, realSenderId: change.realSenderId, target: change.target, moderation: change.moderation, replyRef: change.replyRef }),
      "storing the change",
    );
    if (offline.length > 0) void this.ports.markers.queueing(offline);
    routeToMembers(socket, conversation, event);
    return { eventId: event.id, conversationId: conversation.id, seq, targetId: change.target.id, createdAt: event.createdAt };
  }

  private async checkNotBlocked(uid: string, conversation: Conversation): Promise<void> {
    if (conversation.type !== "direct" || !this.ports.blocks) return;
    await requireNoBlockBetween(this.ports.blocks, uid, conversation.members.find((m) => m !== uid) ?? uid);
  }

  private checkContentSize(content: string): void {
    const max = this.ctx.config.maxContentBytes;
    if (Buffer.byteLength(content, "utf8") > max) throw new GatewayError("PAYLOAD_TOO_LARGE", `content is larger than ${max} bytes.`);
  }
}

/** What remains of a deleted message: its place in order, no content, no metadata, no reply preview. */
export function tombstoneOf(message: StoredMessage, now: number): StoredMessage {
  return {
    id: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
    senderId: message.senderId,
    type: message.type,
    content: "",
    encryptionLevel: message.encryptionLevel,
    isAnonymous: message.isAnonymous,
    clientId: "",
    clientTimestamp: null,
    createdAt: message.createdAt,
    metadata: {},
    deleted: true,
    deletedAt: now,
  };
}

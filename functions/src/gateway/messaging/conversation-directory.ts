import { LRUCache } from "lru-cache";
import { GatewayError } from "../../errors";
import { Conversation, directConversationId, MessageStore } from "../../ports/message-store";
import type { UserDirectory } from "../../ports/user-directory/user-directory";
import type { ConversationSummary } from "../../protocol";
import { GatewayContext, userRoom } from "../types";
import { storeCall } from "./store-calls";

const CACHED_CONVERSATIONS = 50_000;

/**
 * Conversations as this instance knows them, shared by the messaging features of one gateway: cached
 * for `membershipCacheMs` so a send costs no Firestore read, dropped at once on every instance when a
 * gateway changes one (`conversation_changed`). Also opens direct conversations, once per pair.
 */
export class ConversationDirectory {
  private readonly cache: LRUCache<string, Conversation>;
  private readonly openingDirect = new Map<string, Promise<Conversation>>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: { store: MessageStore; users: UserDirectory },
  ) {
    this.cache = new LRUCache({ max: CACHED_CONVERSATIONS, ttl: Math.max(1, ctx.config.membershipCacheMs) });
    ctx.io.on("conversation_changed", (conversationId) => this.cache.delete(conversationId));
  }

  async get(conversationId: string): Promise<Conversation | undefined> {
    const cached = this.cache.get(conversationId);
    if (cached) return cached;
    const conversation = await storeCall(this.ctx, this.ports.store.getConversation(conversationId), "reading the conversation");
    if (conversation) this.remember(conversation);
    return conversation;
  }

  /** The cached copy, if this instance has one; never reads the store. */
  cached(conversationId: string): Conversation | undefined {
    return this.cache.get(conversationId);
  }

  /** The conversation, if `uid` is a member; NOT_FOUND otherwise (non-members learn nothing). */
  async requireMember(conversationId: string, uid: string): Promise<Conversation> {
    const conversation = await this.get(conversationId);
    if (!conversation || !conversation.members.includes(uid)) {
      throw new GatewayError("NOT_FOUND", `No conversation ${conversationId} that you are a member of.`);
    }
    return conversation;
  }

  remember(conversation: Conversation): void {
    this.cache.set(conversation.id, conversation);
  }

  /** After a change made here: update the local copy, tell the other instances, and the features here. */
  changed(conversation: Conversation, change: { added: string[]; removed: string[]; created: boolean; by: string }): void {
    this.remember(conversation);
    this.ctx.io.serverSideEmit("conversation_changed", conversation.id);
    void this.ctx.hooks.emit("conversationChanged", { conversation, ...change });
  }

  /** The direct conversation of two users, created on first use (concurrent first messages create it once). */
  async direct(uid: string, recipientId: string): Promise<Conversation> {
    if (recipientId === uid) throw new GatewayError("INVALID_ARGUMENT", "recipientId: you cannot message yourself.");
    const id = directConversationId(uid, recipientId);
    const known = await this.get(id);
    if (known) return known;
    let opening = this.openingDirect.get(id);
    if (!opening) {
      opening = this.createDirect(id, uid, recipientId).finally(() => this.openingDirect.delete(id));
      this.openingDirect.set(id, opening);
    }
    return opening;
  }

  /** NOT_FOUND naming the uids that are no (enabled) account. */
  async requireUsers(uids: string[]): Promise<void> {
    const existing = await storeCall(this.ctx, this.ports.users.existing(uids), "looking up users");
    const missing = uids.filter((u) => !existing.has(u));
    if (missing.length > 0) throw new GatewayError("NOT_FOUND", `No such users: ${missing.slice(0, 10).join(", ")}.`);
  }

  private async createDirect(id: string, uid: string, recipientId: string): Promise<Conversation> {
    const exists = await storeCall(this.ctx, this.ports.users.existing([recipientId]), "looking up the recipient");
    if (!exists.has(recipientId)) throw new GatewayError("NOT_FOUND", `No user ${recipientId}.`);
    const conversation = await storeCall(
      this.ctx,
      this.ports.store.createConversation({
        id,
        type: "direct",
        name: null,
        members: [uid, recipientId].sort(),
        admins: [],
        announcement: false,
        postingRoles: [],
        createdBy: uid,
        createdAt: this.ctx.clock.now(),
      }),
      "creating the conversation",
    );
    this.changed(conversation, { added: conversation.members, removed: [], created: true, by: uid });
    notifyMembers(this.ctx, conversation, conversation.members);
    return conversation;
  }
}

/** `conversation_updated` to every device of `uids`. */
export function notifyMembers(ctx: GatewayContext, conversation: Conversation, uids: string[]): void {
  const view = summary(conversation);
  for (const uid of uids) ctx.io.to(userRoom(uid)).emit("conversation_updated", view);
}

export function summary(conversation: Conversation): ConversationSummary {
  const { id, type, name, members, admins, announcement, postingRoles, createdBy, createdAt } = conversation;
  return { id, type, name, members, admins, announcement, postingRoles, createdBy, createdAt };
}

export function hasAnyRole(roles: string[], allowed: string[]): boolean {
  return roles.some((r) => allowed.includes(r));
}

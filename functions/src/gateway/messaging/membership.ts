import { GatewayError } from "../../errors";
import type { Conversation, MessageStore } from "../../ports/message-store";
import type { Clock } from "../../ports/clock";
import type { GatewayServer } from "../types";

/**
 * Conversations as this instance knows them: cached for `ttlMs` so a send costs no Firestore read,
 * dropped at once on every instance when this gateway changes one (`conversation_changed`).
 */
export class MembershipCache {
  private readonly cache = new Map<string, { conversation: Conversation; until: number }>();

  constructor(
    private readonly store: MessageStore,
    private readonly io: GatewayServer,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    io.on("conversation_changed", (conversationId) => this.cache.delete(conversationId));
  }

  async get(conversationId: string): Promise<Conversation | undefined> {
    const cached = this.cache.get(conversationId);
    if (cached && cached.until > this.clock.now()) return cached.conversation;
    const conversation = await this.store.getConversation(conversationId);
    if (conversation) this.remember(conversation);
    return conversation;
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
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(conversation.id, { conversation, until: this.clock.now() + this.ttlMs });
  }

  /** After a change made here: update the local copy and tell the other instances to drop theirs. */
  changed(conversation: Conversation): void {
    this.remember(conversation);
    this.io.serverSideEmit("conversation_changed", conversation.id);
  }
}

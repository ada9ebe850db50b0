import type { z } from "zod";
import { GatewayError } from "../../errors";
import { BlockChecks, requireNoBlockBetween } from "../../ports/block-list";
import type { Conversation, MessageStore } from "../../ports/message-store";
import type { ReactionResult, ReactionUpdatedPayload } from "../../protocol";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { reactionSchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface ReactionsPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** Reacting in a direct conversation across a block is refused, like a send. */
  blocks?: BlockChecks;
}

type ReactionPayload = z.output<typeof reactionSchema>;

/**
 * Issue 14: `add_reaction` / `remove_reaction`: one reaction per value per user on a message of a
 * conversation the user belongs to; members see `reaction_updated` live; history and offline-queue copies
 * carry `reactions: [{ emoji, count, me }]`. Counted atomically in the store (a per-user reaction record created or deleted with an exists check in one batch with the count increment), so two
 * instances reacting at once count right. Budget: the shared rule `reaction` (50/min).
 */
export function reactionsFeature(ports: ReactionsPorts) {
  return (ctx: GatewayContext): GatewayFeature => new Reactions(ctx, ports);
}

class Reactions implements GatewayFeature {
  readonly name = "reactions";
  private readonly conversations: ConversationDirectory;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: ReactionsPorts,
  ) {
    this.conversations = ports.conversations(ctx);
    this.defineCalls();
  }

  private defineCalls(): void {
    for (const [event, add] of [["add_reaction", true], ["remove_reaction", false]] as const) {
      this.ctx.calls.define(event, { schema: reactionSchema, rateLimit: "reaction", userAction: true, handle: (p, socket) => this.react(socket, p, add) });
    }
  }

  private async react(socket: GatewaySocket, payload: ReactionPayload, add: boolean): Promise<ReactionResult> {
    const { uid } = socket.data;
    const { conversationId, messageId, emoji } = payload;
    const conversation = await this.conversations.requireMember(conversationId, uid);
    await this.checkNotBlocked(uid, conversation);
    const answer = await storeCall(
      this.ctx,
      this.ports.store.react({ conversationId, messageId, userId: uid, emoji, add, maxDistinct: this.ctx.config.maxReactionsPerMessage, now: this.ctx.clock.now() }),
      "storing the reaction",
    );
    if (answer.outcome === "no_message") throw new GatewayError("NOT_FOUND", `messageId: no message ${messageId} in this conversation.`);
    if (answer.outcome === "deleted") throw new GatewayError("INVALID_ARGUMENT", "messageId: this message was deleted.");
    if (answer.outcome === "too_many") {
      throw new GatewayError("INVALID_ARGUMENT", `emoji: a message has at most ${this.ctx.config.maxReactionsPerMessage} different reactions.`);
    }
    if (answer.changed) this.announce(socket, conversation, { conversationId, messageId, emoji, count: answer.count, userId: uid, added: add });
    return { conversationId, messageId, emoji, count: answer.count, changed: answer.changed };
  }

  /** To every device of every member but the calling socket (group: its room; direct: each user room). */
  private announce(socket: GatewaySocket, conversation: Conversation, payload: ReactionUpdatedPayload): void {
    if (conversation.type === "group") {
      socket.to(conversationRoom(conversation.id)).emit("reaction_updated", payload);
      return;
    }
    for (const member of conversation.members) socket.to(userRoom(member)).emit("reaction_updated", payload);
  }

  private async checkNotBlocked(uid: string, conversation: Conversation): Promise<void> {
    if (conversation.type !== "direct" || !this.ports.blocks) return;
    await requireNoBlockBetween(this.ports.blocks, uid, conversation.members.find((m) => m !== uid) ?? uid);
  }
}

import type { ConsentStore } from "../../ports/consent";
import { publicCopy, type MessageStore, type StoredMessage } from "../../ports/message-store";
import type { GatewayContext, GatewayFeature } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { historySchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface HistoryPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** Per-group history visibility (issue 12): members added later read from their join. */
  consent?: Pick<ConsentStore, "historyFloor">;
}

/** `fetch_history`: a page of a conversation's messages in seq order, before or after a seq; members only. */
export function historyFeature(ports: HistoryPorts) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    /** Issue 14: the page as this reader sees it (reactions with its own flags); one read only when any has reactions. */
    const readerCopies = async (messages: StoredMessage[], uid: string) => {
      const reacted = new Map(messages.filter((m) => m.reactionCounts && Object.keys(m.reactionCounts).length > 0).map((m) => [m.id, Object.keys(m.reactionCounts!)]));
      const mine = reacted.size === 0 ? new Map<string, string[]>() : await storeCall(ctx, ports.store.reactionsOf(messages[0].conversationId, uid, reacted), "reading reactions");
      return messages.map((m) => publicCopy(m, mine.get(m.id) ?? []));
    };
    ctx.calls.define("fetch_history", {
      schema: historySchema,
      userAction: true,
      async handle(query, socket) {
        await conversations.requireMember(query.conversationId, socket.data.uid);
        const limit = Math.min(query.limit ?? 50, ctx.config.historyPageMax);
        const floor = ports.consent ? await storeCall(ctx, ports.consent.historyFloor(query.conversationId, socket.data.uid), "reading the join") : 0;
        const afterSeq = floor > 0 && query.afterSeq !== undefined ? Math.max(query.afterSeq, floor) : query.afterSeq;
        const read = await storeCall(
          ctx,
          ports.store.history(query.conversationId, { beforeSeq: query.beforeSeq, afterSeq, limit: limit + 1 }),
          "reading history",
        );
        const page = fromJoin(read, floor);
        const hasMore = page.length > limit;
        const messages = query.afterSeq !== undefined ? page.slice(0, limit) : page.slice(page.length - Math.min(limit, page.length));
        return { messages: await readerCopies(messages, socket.data.uid), hasMore };
      },
    });
    return {
      name: "history",
    };
  };
}

/** Only what a member added later may read: messages after its join (floor 0: everything). */
function fromJoin(messages: StoredMessage[], floor: number): StoredMessage[] {
  return floor > 0 ? messages.filter((m) => m.seq > floor) : messages;
}

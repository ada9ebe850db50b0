import { publicCopy, type MessageStore, type StoredMessage } from "../../ports/message-store";
import type { GatewayContext, GatewayFeature } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { historySchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface HistoryPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
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
    return {
      name: "history",
      onConnection(socket) {
        ctx.calls.register(socket, "fetch_history", {
          schema: historySchema,
          userAction: true,
          async handle(query) {
            await conversations.requireMember(query.conversationId, socket.data.uid);
            const limit = Math.min(query.limit ?? 50, ctx.config.historyPageMax);
            const page = await storeCall(
              ctx,
              ports.store.history(query.conversationId, { beforeSeq: query.beforeSeq, afterSeq: query.afterSeq, limit: limit + 1 }),
              "reading history",
            );
            const hasMore = page.length > limit;
            const messages = query.afterSeq !== undefined ? page.slice(0, limit) : page.slice(page.length - Math.min(limit, page.length));
            return { messages: await readerCopies(messages, socket.data.uid), hasMore };
          },
        });
      },
    };
  };
}

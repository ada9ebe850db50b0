import type { MessageStore } from "../../ports/message-store";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRefSchema, receiptSchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface ReceiptsPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

/** Most messages one receipt reports to their senders by id. */
const SENDERS_PER_RECEIPT = 1_000;

/**
 * Receipts: `mark_delivered` / `mark_read` move a member's marks forward (and mark its offline-queue
 * entries delivered), senders get `message_delivery_status`; `get_receipts` answers every member's marks.
 */
export function receiptsFeature(ports: ReceiptsPorts) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    const call = <T>(operation: Promise<T>, what: string) => storeCall(ctx, operation, what);

    const notifySenders = async (conversationId: string, uid: string, status: "delivered" | "read", before: number, after: number) => {
      const covered = await call(ports.store.sendersBetween(conversationId, before, after, SENDERS_PER_RECEIPT), "reading senders");
      const bySender = new Map<string, string[]>();
      for (const { senderId, messageId } of covered) {
        if (!senderId || senderId === uid) continue;
        bySender.set(senderId, [...(bySender.get(senderId) ?? []), messageId]);
      }
      const timestamp = ctx.clock.now();
      for (const [sender, messageIds] of bySender) {
        ctx.io.to(userRoom(sender)).emit("message_delivery_status", { conversationId, userId: uid, status, upToSeq: after, messageIds, timestamp });
      }
      if (status === "delivered") ctx.metrics.deliveriesConfirmed.inc(covered.filter((c) => c.senderId !== uid).length);
    };

    const mark = async (socket: GatewaySocket, { conversationId, upToSeq }: { conversationId: string; upToSeq: number }, status: "delivered" | "read") => {
      const { uid } = socket.data;
      await conversations.requireMember(conversationId, uid);
      const highest = await call(ports.store.highestSeq(conversationId), "reading the conversation");
      const target = Math.min(upToSeq, highest);
      const now = ctx.clock.now();
      const field = status === "read" ? "readSeq" : "deliveredSeq";
      const { before, after } = await call(ports.store.advanceReceipt(conversationId, uid, field, target, now), "storing the receipt");
      await call(ports.store.markDelivered(uid, conversationId, after, now), "updating the offline queue");
      if (after > before) await notifySenders(conversationId, uid, status, before, after);
      await ctx.hooks.emit("deliveryConfirmed", { uid, socket, conversationId, upToSeq: after });
      if (status === "read" && after > before) void ctx.hooks.emit("readAdvanced", { uid, socket, conversationId, readSeq: after });
      return { upToSeq: after };
    };

    return {
      name: "receipts",
      onConnection(socket) {
        ctx.calls.register(socket, "mark_delivered", { schema: receiptSchema, handle: (p) => mark(socket, p, "delivered") });
        ctx.calls.register(socket, "mark_read", { schema: receiptSchema, userAction: true, handle: (p) => mark(socket, p, "read") });
        ctx.calls.register(socket, "get_receipts", {
          schema: conversationRefSchema,
          async handle({ conversationId }) {
            const conversation = await conversations.requireMember(conversationId, socket.data.uid);
            const stored = await call(ports.store.receipts(conversationId), "reading receipts");
            const byUser = new Map(stored.map((r) => [r.userId, r]));
            return { receipts: conversation.members.map((m) => byUser.get(m) ?? { userId: m, deliveredSeq: 0, readSeq: 0 }) };
          },
        });
      },
    };
  };
}

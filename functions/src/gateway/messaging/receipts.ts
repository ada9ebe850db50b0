import type { MessageStore } from "../../ports/message-store";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { getReceiptsSchema, receiptSchema } from "./schemas";
import { GatewayError } from "../../errors";
import type { Conversation } from "../../ports/message-store";
import { storeCall } from "./store-calls";

export interface ReceiptsPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

/** Most messages one receipt reports to their senders by id. */
const SENDERS_PER_RECEIPT = 1_000;
/** Receipts of one group within this window share one summary pass (one read of its receipts). */
const SUMMARY_WINDOW_MS = 250;
/** Most messages one summary pass reports (the newest of the range). */
const SUMMARIES_PER_PASS = 200;

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

    const summaries = receiptSummaries(ctx, ports.store);

    const mark = async (socket: GatewaySocket, { conversationId, upToSeq }: { conversationId: string; upToSeq: number }, status: "delivered" | "read") => {
      const { uid } = socket.data;
      const conversation = await conversations.requireMember(conversationId, uid);
      const highest = await call(ports.store.highestSeq(conversationId), "reading the conversation");
      const target = Math.min(upToSeq, highest);
      const now = ctx.clock.now();
      const field = status === "read" ? "readSeq" : "deliveredSeq";
      const { before, after } = await call(ports.store.advanceReceipt(conversationId, uid, field, target, now), "storing the receipt");
      await call(ports.store.markDelivered(uid, conversationId, after, now), "updating the offline queue");
      if (after > before) await notifySenders(conversationId, uid, status, before, after);
      if (after > before && conversation.type === "group" && conversation.members.length <= ctx.config.receiptSummaryMaxMembers) summaries.touched(conversation, before, after);
      await ctx.hooks.emit("deliveryConfirmed", { uid, socket, conversationId, upToSeq: after });
      if (status === "read" && after > before) void ctx.hooks.emit("readAdvanced", { uid, socket, conversationId, readSeq: after });
      return { upToSeq: after };
    };

    ctx.calls.define("mark_delivered", { schema: receiptSchema, handle: (p, socket) => mark(socket, p, "delivered") });
    ctx.calls.define("mark_read", { schema: receiptSchema, userAction: true, handle: (p, socket) => mark(socket, p, "read") });
    ctx.calls.define("get_receipts", {
      schema: getReceiptsSchema,
      async handle({ conversationId, messageId }, socket) {
        const conversation = await conversations.requireMember(conversationId, socket.data.uid);
        const [stored, message] = await Promise.all([
          call(ports.store.receipts(conversationId), "reading receipts"),
          messageId ? call(ports.store.getMessage(conversationId, messageId), "reading the message") : undefined,
        ]);
        if (messageId && !message) throw new GatewayError("NOT_FOUND", `messageId: no message ${messageId} in this conversation.`);
        const byUser = new Map(stored.map((r) => [r.userId, r]));
        const receipts = conversation.members.map((m) => byUser.get(m) ?? { userId: m, deliveredSeq: 0, readSeq: 0 });
        if (!message) return { receipts };
        const others = receipts.filter((r) => r.userId !== message.senderId);
        return { receipts, deliveredTo: others.filter((r) => r.deliveredSeq >= message.seq).map((r) => r.userId), readBy: others.filter((r) => r.readSeq >= message.seq).map((r) => r.userId) };
      },
    });
    return {
      name: "receipts",
    };
  };
}

/**
 * Issue 14, "read by N of M": after receipts in a group, each sender of a message in the covered range
 * gets `receipt_summary` with how many other members have it delivered and read. Receipts of one group
 * within SUMMARY_WINDOW_MS share one pass: one read of the group's receipts and one of the range's
 * messages. Anonymous messages have no sender to tell.
 */
function receiptSummaries(ctx: GatewayContext, store: MessageStore) {
  const pending = new Map<string, { conversation: Conversation; from: number; to: number }>();

  const pass = async (conversationId: string) => {
    const range = pending.get(conversationId);
    pending.delete(conversationId);
    if (!range) return;
    const { conversation, from, to } = range;
    const [receipts, messages] = await Promise.all([
      store.receipts(conversationId),
      store.history(conversationId, { afterSeq: Math.max(from, to - SUMMARIES_PER_PASS), limit: SUMMARIES_PER_PASS }),
    ]);
    const byUser = new Map(receipts.map((r) => [r.userId, r]));
    for (const message of messages) {
      if (!message.senderId || message.seq > to || message.type === "edit" || message.type === "delete") continue;
      const others = conversation.members.filter((m) => m !== message.senderId);
      const delivered = others.filter((m) => (byUser.get(m)?.deliveredSeq ?? 0) >= message.seq).length;
      const read = others.filter((m) => (byUser.get(m)?.readSeq ?? 0) >= message.seq).length;
      ctx.io.to(userRoom(message.senderId)).emit("receipt_summary", { conversationId, messageId: message.id, seq: message.seq, delivered, read, members: others.length });
    }
  };

  return {
    touched(conversation: Conversation, before: number, after: number): void {
      const current = pending.get(conversation.id);
      if (current) {
        pending.set(conversation.id, { conversation, from: Math.min(current.from, before), to: Math.max(current.to, after) });
        return;
      }
      pending.set(conversation.id, { conversation, from: before, to: after });
      setTimeout(() => {
        pass(conversation.id).catch((error) => ctx.logger.warn("receipt summary failed", { conversationId: conversation.id, error: String(error) }));
      }, SUMMARY_WINDOW_MS).unref();
    },
  };
}

import type { DeliveryStatusPayload, ReceiptState, ReceiptSummaryPayload } from "./generated/protocol.js";

export type DeliveryState = "pending" | "sent" | "delivered" | "read";

/** How many of a conversation's other members have a message delivered and read. */
export interface ReceiptSummary {
  delivered: number;
  read: number;
  of: number;
}

/** Server summaries kept per conversation (the newest messages'). */
const SUMMARIES_KEPT = 500;

/**
 * Each member's delivered and read positions per conversation, from get_receipts and
 * message_delivery_status; and, for your group messages, the server's "read by N of M" (receipt_summary).
 */
export class Receipts {
  private readonly positions = new Map<string, Map<string, { deliveredSeq: number; readSeq: number }>>();
  private readonly summaries = new Map<string, Map<number, ReceiptSummaryPayload>>();

  apply(conversationId: string, receipts: ReceiptState[]): void {
    for (const r of receipts) this.raise(conversationId, r.userId, r.deliveredSeq, r.readSeq);
  }

  receive(payload: DeliveryStatusPayload): void {
    const read = payload.status === "read" ? payload.upToSeq : 0;
    this.raise(payload.conversationId, payload.userId, payload.upToSeq, read);
  }

  /** The server's count for one of your group messages; it only grows (a member never un-reads). */
  receiveSummary(payload: ReceiptSummaryPayload): void {
    const here = this.summaries.get(payload.conversationId) ?? new Map<number, ReceiptSummaryPayload>();
    this.summaries.set(payload.conversationId, here);
    const current = here.get(payload.seq);
    here.set(payload.seq, current ? { ...payload, delivered: Math.max(current.delivered, payload.delivered), read: Math.max(current.read, payload.read) } : payload);
    if (here.size > SUMMARIES_KEPT) here.delete(Math.min(...here.keys()));
  }

  of(conversationId: string, userId: string): { deliveredSeq: number; readSeq: number } {
    return this.positions.get(conversationId)?.get(userId) ?? { deliveredSeq: 0, readSeq: 0 };
  }

  /** The positions this client knows, and the server's summary when it sent one (the larger counts win). */
  summary(conversationId: string, seq: number, others: string[]): ReceiptSummary {
    let delivered = 0;
    let read = 0;
    for (const userId of others) {
      const p = this.of(conversationId, userId);
      if (p.deliveredSeq >= seq) delivered += 1;
      if (p.readSeq >= seq) read += 1;
    }
    const server = this.summaries.get(conversationId)?.get(seq);
    if (!server) return { delivered, read, of: others.length };
    const of = server.members;
    return { delivered: Math.min(of, Math.max(delivered, server.delivered)), read: Math.min(of, Math.max(read, server.read)), of };
  }

  /** "read" once every other member read it, "delivered" once every other member has it, else "sent". */
  state(conversationId: string, seq: number, others: string[]): DeliveryState {
    const s = this.summary(conversationId, seq, others);
    if (s.of > 0 && s.read === s.of) return "read";
    if (s.of > 0 && s.delivered === s.of) return "delivered";
    return "sent";
  }

  private raise(conversationId: string, userId: string, deliveredSeq: number, readSeq: number): void {
    const here = this.positions.get(conversationId) ?? new Map();
    this.positions.set(conversationId, here);
    const current = here.get(userId) ?? { deliveredSeq: 0, readSeq: 0 };
    // Reading implies delivery.
    const read = Math.max(current.readSeq, readSeq);
    here.set(userId, { deliveredSeq: Math.max(current.deliveredSeq, deliveredSeq, read), readSeq: read });
  }
}

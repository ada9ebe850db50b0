import type { BroadcastReceipts, ReachCounts } from "./broadcast-receipts";

interface Receipt {
  deliveredAt: number;
  acknowledgedAt: number;
}

/** In-process receipts, for single-process runs with the memory message store. */
export class MemoryBroadcastReceipts implements BroadcastReceipts {
  private readonly byBroadcast = new Map<string, Map<string, Receipt>>();

  private of(broadcastId: string): Map<string, Receipt> {
    let receipts = this.byBroadcast.get(broadcastId);
    if (!receipts) this.byBroadcast.set(broadcastId, (receipts = new Map()));
    return receipts;
  }

  async target(broadcastId: string, uids: string[]): Promise<void> {
    const receipts = this.of(broadcastId);
    for (const uid of uids) if (!receipts.has(uid)) receipts.set(uid, { deliveredAt: 0, acknowledgedAt: 0 });
  }

  async targeted(broadcastId: string, uids: string[]): Promise<Set<string>> {
    const receipts = this.of(broadcastId);
    return new Set(uids.filter((u) => receipts.has(u)));
  }

  async undelivered(broadcastId: string, uids: string[]): Promise<string[]> {
    const receipts = this.of(broadcastId);
    return uids.filter((u) => receipts.get(u)?.deliveredAt === 0);
  }

  async markDelivered(broadcastId: string, uids: string[], at: number): Promise<void> {
    const receipts = this.of(broadcastId);
    for (const uid of uids) {
      const receipt = receipts.get(uid);
      if (receipt && !receipt.deliveredAt) receipt.deliveredAt = at;
    }
  }

  async acknowledge(broadcastId: string, uid: string, at: number): Promise<boolean> {
    const receipt = this.of(broadcastId).get(uid);
    if (!receipt) return false;
    if (!receipt.acknowledgedAt) Object.assign(receipt, { acknowledgedAt: at, deliveredAt: receipt.deliveredAt || at });
    return true;
  }

  async counts(broadcastId: string): Promise<ReachCounts> {
    const receipts = [...this.of(broadcastId).values()];
    return { targeted: receipts.length, delivered: receipts.filter((r) => r.deliveredAt).length, acknowledged: receipts.filter((r) => r.acknowledgedAt).length };
  }

  async unreached(broadcastId: string, page: { after?: string; limit: number }): Promise<string[]> {
    return [...this.of(broadcastId).entries()]
      .filter(([uid, r]) => !r.acknowledgedAt && (!page.after || uid > page.after))
      .map(([uid]) => uid)
      .sort()
      .slice(0, page.limit);
  }
}

import type { ConnectionSlots, SlotClaim, SlotRef } from "./connection-slots";

/** One process's slots (no Redis, and the fallback while Redis is away). */
export class MemoryConnectionSlots implements ConnectionSlots {
  private readonly byUser = new Map<string, Map<string, number>>();

  async claim(ref: SlotRef, max: number, now: number, ttlMs: number): Promise<SlotClaim> {
    const slots = this.byUser.get(ref.uid) ?? new Map<string, number>();
    for (const [connId, expiresAt] of slots) if (expiresAt <= now) slots.delete(connId);
    if (!slots.has(ref.connId) && slots.size >= max) return { admitted: false, live: slots.size };
    slots.set(ref.connId, now + ttlMs);
    this.byUser.set(ref.uid, slots);
    return { admitted: true, live: slots.size };
  }

  async release(ref: SlotRef): Promise<void> {
    const slots = this.byUser.get(ref.uid);
    slots?.delete(ref.connId);
    if (slots?.size === 0) this.byUser.delete(ref.uid);
  }

  async refresh(refs: SlotRef[], now: number, ttlMs: number): Promise<void> {
    for (const ref of refs) this.byUser.get(ref.uid)?.set(ref.connId, now + ttlMs);
  }
}

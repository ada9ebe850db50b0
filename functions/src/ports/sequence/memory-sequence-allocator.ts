import type { SequenceAllocator } from "./sequence-allocator";

/** Counters in this process: correct for a single instance (memory store, tests, benchmarks). */
export class MemorySequenceAllocator implements SequenceAllocator {
  private readonly counters = new Map<string, number>();
  private readonly seeding = new Map<string, Promise<number>>();

  async next(conversationId: string, floor: () => Promise<number>): Promise<number> {
    if (!this.counters.has(conversationId)) {
      let seeding = this.seeding.get(conversationId);
      if (!seeding) {
        seeding = floor();
        this.seeding.set(conversationId, seeding);
      }
      const seeded = await seeding;
      this.seeding.delete(conversationId);
      if (!this.counters.has(conversationId)) this.counters.set(conversationId, seeded);
    }
    const value = this.counters.get(conversationId)! + 1;
    this.counters.set(conversationId, value);
    return value;
  }

  /** Raises a counter to at least `value` (after another allocator handed out numbers). */
  raise(conversationId: string, value: number): void {
    this.counters.set(conversationId, Math.max(this.counters.get(conversationId) ?? 0, value));
  }
}

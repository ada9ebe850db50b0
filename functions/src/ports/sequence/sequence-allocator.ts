/**
 * Per-conversation sequence numbers: increasing (not always contiguous: a send that fails after
 * allocation leaves a gap). `floor` is the highest seq known to be stored, used to seed a counter.
 */
export interface SequenceAllocator {
  next(conversationId: string, floor: () => Promise<number>): Promise<number>;
}

/**
 * Queue markers: whether a user surely has nothing in the offline queue, so that admitting them costs
 * no Firestore query. The marker says "known empty", never "has entries", so that a lost marker (Redis
 * flushed, restarted without persistence, a key deleted or evicted) means "unknown" and the gateway
 * reads Firestore: losing Redis can cost reads, never skip queued messages. Decision and failure cases:
 * docs/DATA-MODEL.md ("Queue markers").
 */
export interface QueueMarkers {
  /**
   * Whether the user's queue is known to be empty, and the user's queue generation as read now (to pass
   * to `markEmpty` after a query found the queue empty). Redis errors answer "not known".
   */
  check(uid: string): Promise<{ knownEmpty: boolean; generation: string | null }>;
  /**
   * Called before queue entries for `uids` are written and again once they are committed: invalidates
   * their "known empty" marks. Never throws; what Redis could not take is repaired when it is back.
   */
  queueing(uids: string[]): Promise<void>;
  /** Marks the queue empty, unless someone queued for the user since `generation` was read. */
  markEmpty(uid: string, generation: string): Promise<void>;
  /** After a Redis outage: invalidates the marks of users queued for while Redis was away. */
  repair(): Promise<void>;
}

/** Without Redis: nothing is ever known, every admission reads the queue (single process, memory store). */
export class NoQueueMarkers implements QueueMarkers {
  async check() {
    return { knownEmpty: false, generation: null };
  }
  async queueing() {}
  async markEmpty() {}
  async repair() {}
}

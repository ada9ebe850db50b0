/** Where an emergency broadcast stands for each person it was meant for. */
export interface ReachCounts {
  targeted: number;
  delivered: number;
  acknowledged: number;
}

/**
 * The broadcast receipts port: one receipt per (broadcast, recipient), written when the broadcast is sent,
 * raised to delivered when a socket of the recipient was sent it (live or replay) and to acknowledged when a
 * device answered `ack_broadcast`. Times are ms since epoch; 0 means "not yet".
 */
export interface BroadcastReceipts {
  /** Records the audience of a broadcast (idempotent per recipient). */
  target(broadcastId: string, uids: string[], at: number): Promise<void>;
  /** Those of `uids` the broadcast was meant for. */
  targeted(broadcastId: string, uids: string[]): Promise<Set<string>>;
  /** Marks the targeted ones of `uids` delivered (the first delivery time is kept). */
  markDelivered(broadcastId: string, uids: string[], at: number): Promise<void>;
  /** Those of `uids` with a receipt not yet delivered. */
  undelivered(broadcastId: string, uids: string[]): Promise<string[]>;
  /** Marks the recipient acknowledged (and delivered); false when the broadcast was not meant for them. */
  acknowledge(broadcastId: string, uid: string, at: number): Promise<boolean>;
  counts(broadcastId: string): Promise<ReachCounts>;
  /** Recipients who have not acknowledged, by uid, after `after` (exclusive), at most `limit`. */
  unreached(broadcastId: string, page: { after?: string; limit: number }): Promise<string[]>;
}

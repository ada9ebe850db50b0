/** One live socket of a user, holding a slot until `expiresAt` unless refreshed (socket ids are unique across instances). */
export interface SlotRef {
  uid: string;
  connId: string;
}

export interface SlotClaim {
  admitted: boolean;
  /** Live slots of the user after the claim (the refused one not counted). */
  live: number;
}

/**
 * The connection-slots port (issue 12, connection budgets): how many live sockets a user holds across
 * every instance. A slot is claimed at admission, released at disconnect, and refreshed by its instance
 * while the socket lives; a slot of an instance that died unrefreshed expires after its TTL.
 */
export interface ConnectionSlots {
  /** Claims a slot for `ref` if its user holds fewer than `max` unexpired ones (atomic across instances). */
  claim(ref: SlotRef, max: number, now: number, ttlMs: number): Promise<SlotClaim>;
  release(ref: SlotRef): Promise<void>;
  /** Extends the slots of live sockets to `now + ttlMs`. */
  refresh(refs: SlotRef[], now: number, ttlMs: number): Promise<void>;
}

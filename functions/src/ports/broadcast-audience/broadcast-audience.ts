import type { BroadcastTarget } from "../../protocol";

/** The broadcast audience port: the uids an emergency broadcast target stands for. */
export interface BroadcastAudience {
  /** Every uid of the target; NOT_FOUND for a group that does not exist. */
  resolve(target: BroadcastTarget): Promise<string[]>;
}

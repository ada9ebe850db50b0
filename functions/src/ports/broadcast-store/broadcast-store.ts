import type { EmergencyBroadcastPayload } from "../../protocol";

/**
 * Emergency broadcasts that must outlive the moment they were sent (`emergency_broadcasts/{id}`), and
 * each user's high-water mark (`users/{uid}.lastBroadcastAt`) so a user who was offline gets the
 * broadcasts they missed when they connect.
 */
export interface BroadcastStore {
  save(broadcast: EmergencyBroadcastPayload): Promise<void>;
  get(id: string): Promise<EmergencyBroadcastPayload | undefined>;
  /** Broadcasts with createdAt > afterMs, oldest first. */
  since(afterMs: number, limit: number): Promise<EmergencyBroadcastPayload[]>;
  /** createdAt of the newest broadcast, null when there is none. */
  newest(): Promise<number | null>;
  lastReceived(uid: string): Promise<number | null>;
  /** Raises the user's mark to `createdAt`; never lowers it (two devices may report out of order). */
  markReceived(uid: string, createdAt: number): Promise<void>;
}

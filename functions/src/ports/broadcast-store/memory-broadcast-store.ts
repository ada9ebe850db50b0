import type { EmergencyBroadcastPayload } from "../../protocol";
import type { BroadcastStore } from "./broadcast-store";

/** In-process broadcasts, for single-process runs with the memory message store. */
export class MemoryBroadcastStore implements BroadcastStore {
  private readonly broadcasts: EmergencyBroadcastPayload[] = [];
  private readonly marks = new Map<string, number>();

  async save(broadcast: EmergencyBroadcastPayload): Promise<void> {
    this.broadcasts.push(broadcast);
    this.broadcasts.sort((a, b) => a.createdAt - b.createdAt);
  }

  async get(id: string): Promise<EmergencyBroadcastPayload | undefined> {
    return this.broadcasts.find((b) => b.id === id);
  }

  async since(afterMs: number, limit: number): Promise<EmergencyBroadcastPayload[]> {
    return this.broadcasts.filter((b) => b.createdAt > afterMs).slice(0, limit);
  }

  async newest(): Promise<number | null> {
    return this.broadcasts.at(-1)?.createdAt ?? null;
  }

  async lastReceived(uid: string): Promise<number | null> {
    return this.marks.get(uid) ?? null;
  }

  async markReceived(uid: string, createdAt: number): Promise<void> {
    this.marks.set(uid, Math.max(createdAt, this.marks.get(uid) ?? 0));
  }
}

import type { ChosenFields, UserRecords } from "./user-records";

export interface MemoryUserRecord {
  lastLoginAt?: number;
  lastActiveAt?: number;
  lastSeen?: number;
  presence?: ChosenFields;
}

/** User records in this process (the `memory` message store's runs). */
export class MemoryUserRecords implements UserRecords {
  readonly records = new Map<string, MemoryUserRecord>();

  async loggedIn(uid: string, at: number): Promise<void> {
    this.merge(uid, { lastLoginAt: at });
  }

  async wasActive(uid: string, at: number): Promise<void> {
    this.merge(uid, { lastActiveAt: at });
  }

  async wentOffline(uid: string, lastSeen: number): Promise<void> {
    this.merge(uid, { lastSeen });
  }

  async choseStatus(uid: string, presence: ChosenFields): Promise<void> {
    this.merge(uid, { presence: { ...this.records.get(uid)?.presence, ...presence } });
  }

  async lastSeenOf(uids: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const uid of uids) {
      const lastSeen = this.records.get(uid)?.lastSeen;
      if (lastSeen !== undefined) found.set(uid, lastSeen);
    }
    return found;
  }

  private merge(uid: string, fields: MemoryUserRecord): void {
    this.records.set(uid, { ...this.records.get(uid), ...fields });
  }
}

import type { Device, DeviceRegistry } from "./device-registry";

/** In-process devices and mutes, for single-process runs with the memory message store. */
export class MemoryDeviceRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  private readonly mutes = new Map<string, number>();

  async register(device: Device, max: number): Promise<void> {
    this.devices.set(device.token, device);
    const mine = [...this.devices.values()].filter((d) => d.uid === device.uid).sort((a, b) => a.lastSeen - b.lastSeen);
    for (const old of mine.slice(0, Math.max(0, mine.length - max))) this.devices.delete(old.token);
  }

  async unregister(uid: string, token: string): Promise<void> {
    if (this.devices.get(token)?.uid === uid) this.devices.delete(token);
  }

  async tokensOf(uids: string[]): Promise<Map<string, string[]>> {
    const wanted = new Set(uids);
    const byUser = new Map<string, string[]>();
    for (const d of this.devices.values()) if (wanted.has(d.uid)) byUser.set(d.uid, [...(byUser.get(d.uid) ?? []), d.token]);
    return byUser;
  }

  async remove(tokens: string[]): Promise<void> {
    for (const t of tokens) this.devices.delete(t);
  }

  async mute(uid: string, conversationId: string, until: number | null): Promise<void> {
    if (until === null) this.mutes.delete(`${uid}_${conversationId}`);
    else this.mutes.set(`${uid}_${conversationId}`, until);
  }

  async mutedAmong(conversationId: string, uids: string[], now: number): Promise<Set<string>> {
    return new Set(uids.filter((u) => {
      const until = this.mutes.get(`${u}_${conversationId}`);
      return until !== undefined && (until === 0 || until > now);
    }));
  }
}

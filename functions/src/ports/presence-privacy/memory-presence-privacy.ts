import { DEFAULT_PRIVACY, PresencePrivacy, PresencePrivacyStore } from "./presence-privacy";

export class MemoryPresencePrivacy implements PresencePrivacyStore {
  private readonly settings = new Map<string, PresencePrivacy>();

  async settingsOf(uids: string[]): Promise<Map<string, PresencePrivacy>> {
    return new Map(uids.map((uid) => [uid, this.settings.get(uid) ?? DEFAULT_PRIVACY]));
  }

  async update(uid: string, change: Partial<PresencePrivacy>): Promise<PresencePrivacy> {
    const next = { ...(this.settings.get(uid) ?? DEFAULT_PRIVACY), ...change };
    this.settings.set(uid, next);
    return next;
  }
}

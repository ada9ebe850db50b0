export const DEVICE_PLATFORMS = ["android", "ios", "web"] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

export interface Device {
  uid: string;
  token: string;
  platform: DevicePlatform;
  appVersion: string | null;
  lastSeen: number;
}

/** The device registry port: each user's push tokens, and the conversations they muted. */
export interface DeviceRegistry {
  /** Adds or refreshes a token for `uid` (a token moves to its latest user); keeps at most `max` per user (oldest go). */
  register(device: Device, max: number): Promise<void>;
  unregister(uid: string, token: string): Promise<void>;
  /** Tokens by user, for the users that have any. */
  tokensOf(uids: string[]): Promise<Map<string, string[]>>;
  /** Deletes tokens the push provider reported dead. */
  remove(tokens: string[]): Promise<void>;
  /** Mutes a conversation's pushes for `uid` until `until` (ms; 0 = until unmuted); null unmutes. */
  mute(uid: string, conversationId: string, until: number | null): Promise<void>;
  /** Those of `uids` who muted the conversation at `now`. */
  mutedAmong(conversationId: string, uids: string[], now: number): Promise<Set<string>>;
}

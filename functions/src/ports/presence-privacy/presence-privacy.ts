/** Who may see a presence detail: anyone allowed to see the presence, direct contacts only, or nobody. */
export type PrivacyAudience = "everyone" | "contacts" | "nobody";
export const PRIVACY_AUDIENCES = ["everyone", "contacts", "nobody"] as const;

/** A user's presence privacy (issue 12): who sees its last seen and its custom status. */
export interface PresencePrivacy {
  lastSeen: PrivacyAudience;
  customStatus: PrivacyAudience;
}

export const DEFAULT_PRIVACY: PresencePrivacy = { lastSeen: "everyone", customStatus: "everyone" };

/**
 * The presence-privacy port: one settings record per user (`users/{uid}.presencePrivacy` in Firestore).
 * Users without one have DEFAULT_PRIVACY.
 */
export interface PresencePrivacyStore {
  settingsOf(uids: string[]): Promise<Map<string, PresencePrivacy>>;
  /** Merges the given fields; answers the settings after the change. */
  update(uid: string, change: Partial<PresencePrivacy>): Promise<PresencePrivacy>;
}

export interface AllowedDetails {
  lastSeen: boolean;
  customStatus: boolean;
}

/**
 * The one rule of presence privacy, for the socket and the HTTP API: which details of each of `uids`
 * `viewer` may see (the caller already checked it may see their presence). `contacts` means a direct
 * conversation with the viewer; a user always sees its own details.
 */
export async function allowedDetails(
  viewer: string,
  uids: string[],
  privacy: PresencePrivacyStore,
  directContactsOf: ((uid: string) => Promise<string[]>) | undefined,
): Promise<Map<string, AllowedDetails>> {
  const others = uids.filter((uid) => uid !== viewer);
  const settings = others.length > 0 ? await privacy.settingsOf(others) : new Map<string, PresencePrivacy>();
  const needsDirect = [...settings.values()].some((s) => s.lastSeen === "contacts" || s.customStatus === "contacts");
  const direct = new Set(needsDirect && directContactsOf ? await directContactsOf(viewer) : []);
  const allowed = (uid: string, audience: PrivacyAudience) => audience === "everyone" || (audience === "contacts" && direct.has(uid));
  const result = new Map<string, AllowedDetails>(uids.filter((uid) => uid === viewer).map((uid) => [uid, { lastSeen: true, customStatus: true }]));
  for (const uid of others) {
    const s = settings.get(uid) ?? DEFAULT_PRIVACY;
    result.set(uid, { lastSeen: allowed(uid, s.lastSeen), customStatus: allowed(uid, s.customStatus) });
  }
  return result;
}

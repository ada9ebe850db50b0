import type { PresenceStatus, UserPresence } from "../protocol";
import { firestoreCall, redisCall, unavailable } from "./backend";
import type { ApiDeps } from "./types";
import { allowedDetails } from "../ports/presence-privacy";

/**
 * One user's presence over HTTP: the same status, custom status and last seen as the socket's
 * `get_presence` (Redis, as the gateway writes it), plus `isOnline` and `lastActiveAt`.
 * `lastSeen` (ms) is when the user was last connected: null while online and when never seen.
 * Without presence (no Redis, or Redis down) `isOnline` and `status` are null.
 */
export interface PresenceView {
  userId: string;
  isOnline: boolean | null;
  status: PresenceStatus | null;
  customStatus?: string;
  lastSeen: number | null;
  lastActiveAt: number | null;
}

/**
 * The presence of `uids` as `viewer` may see it (the caller checked they are visible), in the order
 * asked. Users who blocked the viewer are shown `offline` with nothing else, as on the socket.
 * `required`: a presence outage is a 503 (presence endpoints) instead of null fields.
 */
export async function presenceViews(deps: ApiDeps, viewer: string, uids: string[], required: boolean): Promise<{ views: PresenceView[]; available: boolean }> {
  if (uids.length === 0) return { views: [], available: !!deps.presence };
  const [records, live, masked, details] = await Promise.all([
    firestoreCall(deps, deps.records.recordsOf(uids), "Firestore (user records)"),
    livePresence(deps, uids, required),
    firestoreCall(deps, deps.visibility.maskedFor(viewer), "Firestore (blocks)"),
    deps.privacy ? firestoreCall(deps, allowedDetails(viewer, uids, deps.privacy, deps.directContactsOf), "Firestore (presence privacy)") : undefined,
  ]);
  const views = uids.map((userId, i): PresenceView => {
    if (masked.has(userId)) return { userId, isOnline: false, status: "offline", lastSeen: null, lastActiveAt: null };
    const record = records.get(userId);
    const presence = live?.[i];
    const view: PresenceView = { userId, isOnline: null, status: null, lastSeen: record?.lastSeen ?? null, lastActiveAt: record?.lastActiveAt ?? null };
    if (!presence) return view;
    view.status = presence.status;
    view.isOnline = presence.status !== "offline";
    if (presence.customStatus) view.customStatus = presence.customStatus;
    view.lastSeen = presence.status === "offline" ? (presence.lastSeen ?? record?.lastSeen ?? null) : null;
    return view;
  });
  // Presence privacy (issue 12), as on the socket: last seen (and last active) and custom status only to whom the user allows.
  for (const view of views) {
    const allowed = details?.get(view.userId);
    if (!allowed) continue;
    if (!allowed.lastSeen) Object.assign(view, { lastSeen: null, lastActiveAt: null });
    if (!allowed.customStatus) delete view.customStatus;
  }
  return { views, available: !!live };
}

async function livePresence(deps: ApiDeps, uids: string[], required: boolean): Promise<UserPresence[] | undefined> {
  if (!deps.presence) {
    if (required) throw unavailable("Presence needs Redis (REDIS_URL), which this deployment does not have");
    return undefined;
  }
  try {
    return await redisCall(deps, deps.presence.get(uids), "Redis (presence)");
  } catch (error) {
    if (required) throw error;
    return undefined;
  }
}

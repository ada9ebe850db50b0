import { GatewayError } from "../../errors";
import { firestoreCall, redisCall } from "../backend";
import { presenceViews } from "../presence-views";
import type { Route } from "../types";
import { requireVisible, targetOf } from "./presence";

export const profileRoutes: Route[] = [
  {
    /** A user's profile with the presence fields the spec lists; only for users the caller may see. */
    method: "GET",
    pattern: "/users/:uid",
    async handler(call) {
      const uid = targetOf(call);
      await requireVisible(call, uid);
      const [profiles, records, presence] = await Promise.all([
        firestoreCall(call.deps, call.deps.profiles.profilesOf([uid]), "Firebase Auth (profiles)"),
        firestoreCall(call.deps, call.deps.records.recordsOf([uid]), "Firestore (user records)"),
        presenceViews(call.deps, call.caller.uid, [uid], false),
      ]);
      const profile = profiles.get(uid);
      if (!profile) throw new GatewayError("NOT_FOUND", `No user ${uid} whose presence you may see.`);
      const user = { ...presence.views[0], displayName: profile.displayName, photoURL: profile.photoURL, lastLoginAt: records.get(uid)?.lastLoginAt ?? null };
      return { body: { user, presenceAvailable: presence.available } };
    },
  },
  {
    /**
     * The caller is active now (an app without a socket, on open or resume): `users/{uid}.lastActiveAt`,
     * written at most once per `presenceLastActiveWriteMs` per user, the same throttle as the gateway's.
     * `lastSeen` stays the socket's (when the last connection closed).
     */
    method: "PUT",
    pattern: "/me/activity",
    async handler(call) {
      const uid = call.caller.uid;
      const interval = call.deps.config.presenceLastActiveWriteMs;
      const claimed = call.deps.presence
        ? await redisCall(call.deps, call.deps.presence.claimOnce(`active:${uid}`, interval), "Redis (presence)").catch(() => true)
        : true;
      if (claimed) await firestoreCall(call.deps, call.deps.recordWriter.wasActive(uid, call.now), "Firestore (user records)");
      const record = (await firestoreCall(call.deps, call.deps.records.recordsOf([uid]), "Firestore (user records)")).get(uid);
      return { body: { lastActiveAt: record?.lastActiveAt ?? null, written: claimed } };
    },
  },
];

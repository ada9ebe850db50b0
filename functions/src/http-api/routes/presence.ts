import { z } from "zod";
import { GatewayError } from "../../errors";
import { isApiAdmin } from "../admin";
import { firestoreCall, redisCall, unavailable } from "../backend";
import { parseInput, queryLimit, queryString, userIdSchema } from "../input";
import { presenceViews } from "../presence-views";
import type { ApiCall, Route } from "../types";

/** The caller itself when the path says `me`. */
export const targetOf = (call: ApiCall) => (call.params.uid === "me" ? call.caller.uid : call.params.uid);

/** Members of a 500-user query at most (the socket's `get_presence` bound). */
const batchSchema = (max: number) => z.object({ userIds: z.array(userIdSchema).min(1).max(max) });

export const presenceRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/users/:uid/presence",
    limit: "presenceUser",
    async handler(call) {
      const uid = targetOf(call);
      await requireVisible(call, uid);
      const { views } = await presenceViews(call.deps, call.caller.uid, [uid], true);
      return { body: { presence: views[0] } };
    },
  },
  {
    method: "POST",
    pattern: "/presence/batch",
    limit: "presenceBatch",
    async handler(call) {
      const { userIds } = parseInput(batchSchema(call.deps.config.presenceMaxQueryUsers), call.body, "body");
      const asked = [...new Set(userIds)];
      const visible = await firestoreCall(call.deps, call.deps.visibility.visibleAmong(call.caller.uid, asked), "Firestore (contacts)");
      const shown = asked.filter((uid) => visible.has(uid));
      const { views } = await presenceViews(call.deps, call.caller.uid, shown, true);
      return { body: { presence: views, notVisible: asked.filter((uid) => !visible.has(uid)) } };
    },
  },
  {
    method: "GET",
    pattern: "/presence/online",
    limit: "presenceList",
    async handler(call) {
      const max = call.deps.config.httpOnlinePageMax;
      const limit = queryLimit(call.query, Math.min(50, max), max);
      const after = queryString(call.query, "cursor");
      const online = await onlineContacts(call);
      const rest = after ? online.filter((uid) => uid > after) : online;
      const page = rest.slice(0, limit);
      const { views } = await presenceViews(call.deps, call.caller.uid, page, true);
      const nextCursor = rest.length > limit ? page[page.length - 1] : null;
      return { body: { users: views, nextCursor } };
    },
  },
  {
    method: "GET",
    pattern: "/presence/online/count",
    limit: "presenceList",
    async handler(call) {
      const contacts = await visibleContacts(call);
      const online = await onlineAmong(call, contacts);
      const body: Record<string, unknown> = { online: online.length, contacts: contacts.length };
      if (isApiAdmin(call.deps.config, call.caller)) {
        const counts = await redisCall(call.deps, requirePresence(call).counts(), "Redis (presence)");
        body.total = { onlineUsers: counts.onlineUsers, connections: counts.connections, byStatus: counts.byStatus };
      }
      return { body };
    },
  },
];

/** NOT_FOUND for users the caller may not see, exactly as for ids that do not exist. */
export async function requireVisible(call: ApiCall, uid: string): Promise<void> {
  parseInput(userIdSchema, uid, "user id");
  const visible = await firestoreCall(call.deps, call.deps.visibility.maySee(call.caller.uid, uid), "Firestore (contacts)");
  if (!visible) throw new GatewayError("NOT_FOUND", `No user ${uid} whose presence you may see.`);
}

function requirePresence(call: ApiCall) {
  if (!call.deps.presence) throw unavailable("Presence needs Redis (REDIS_URL), which this deployment does not have");
  return call.deps.presence;
}

/** Contacts who did not block the caller (those are shown offline, so never listed online). */
async function visibleContacts(call: ApiCall): Promise<string[]> {
  const [contacts, masked] = await Promise.all([
    firestoreCall(call.deps, call.deps.visibility.visibleTo(call.caller.uid), "Firestore (contacts)"),
    firestoreCall(call.deps, call.deps.visibility.maskedFor(call.caller.uid), "Firestore (blocks)"),
  ]);
  return contacts.filter((uid) => !masked.has(uid));
}

/** Sorted by uid, so the uid of the last one shown is the cursor of the next page. */
async function onlineContacts(call: ApiCall): Promise<string[]> {
  return (await onlineAmong(call, await visibleContacts(call))).sort();
}

const ONLINE_CHECK_CHUNK = 1_000;

async function onlineAmong(call: ApiCall, uids: string[]): Promise<string[]> {
  const presence = requirePresence(call);
  const online: string[] = [];
  for (let i = 0; i < uids.length; i += ONLINE_CHECK_CHUNK) {
    const chunk = uids.slice(i, i + ONLINE_CHECK_CHUNK);
    const found = await redisCall(call.deps, presence.onlineUsers(chunk), "Redis (presence)");
    online.push(...chunk.filter((uid) => found.has(uid)));
  }
  return online;
}

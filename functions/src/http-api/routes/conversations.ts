import { publicCopy } from "../../ports/message-store/message-store";
import { GatewayError } from "../../errors";
import type { ChatMessage } from "../../protocol";
import type { Conversation } from "../../ports/message-store";
import type { UserProfile } from "../../ports/user-directory/user-profiles";
import { firestoreCall } from "../backend";
import { decodeCursor, encodeCursor, queryInt, queryLimit } from "../input";
import { PresenceView, presenceViews } from "../presence-views";
import type { ApiCall, Route } from "../types";

type Participant = PresenceView & { displayName: string | null; photoURL: string | null };

export const conversationRoutes: Route[] = [
  {
    /** The caller's conversations, most recently changed first, each with its other members' presence and its last message. */
    method: "GET",
    pattern: "/conversations",
    async handler(call) {
      const { config } = call.deps;
      const limit = queryLimit(call.query, Math.min(20, config.httpConversationsPageMax), config.httpConversationsPageMax);
      const cursor = decodeCursor(call.query);
      const page = await firestoreCall(call.deps, call.deps.conversations.page(call.caller.uid, limit, cursor), "Firestore (conversations)");
      const ids = page.conversations.map((c) => c.id);
      const shown = new Map(page.conversations.map((c) => [c.id, othersOf(c, call.caller.uid, config.httpListParticipantsMax)]));
      const [lastMessages, people] = await Promise.all([
        firestoreCall(call.deps, call.deps.conversations.lastMessages(ids), "Firestore (last messages)"),
        participants(call, [...shown.values()].flat()),
      ]);
      const conversations = page.conversations.map((c) => ({
        ...summaryOf(c),
        updatedAt: c.updatedAt,
        participants: shown.get(c.id)!.map((uid) => people.byId.get(uid)!),
        lastMessage: lastMessages.get(c.id) ?? null,
      }));
      return { body: { conversations, nextCursor: encodeCursor(page.next), presenceAvailable: people.available } };
    },
  },
  {
    /** One conversation (members only) with its participants' presence and a page of messages, oldest first. */
    method: "GET",
    pattern: "/conversations/:id",
    async handler(call) {
      const { config } = call.deps;
      const id = call.params.id;
      const limit = queryLimit(call.query, Math.min(50, config.httpMessagesPageMax), config.httpMessagesPageMax);
      const beforeSeq = queryInt(call.query, "beforeSeq", 1);
      const conversation = await firestoreCall(call.deps, call.deps.messages.getConversation(id), "Firestore (conversation)");
      if (!conversation || !conversation.members.includes(call.caller.uid)) {
        throw new GatewayError("NOT_FOUND", `No conversation ${id} that you are a member of.`);
      }
      const others = othersOf(conversation, call.caller.uid, config.httpParticipantsMax);
      const [page, people] = await Promise.all([
        firestoreCall(call.deps, call.deps.messages.history(id, { beforeSeq, limit: limit + 1 }), "Firestore (messages)"),
        participants(call, others),
      ]);
      const hasMore = page.length > limit;
      // Reactions as counts (issue 14); the reader's own flags are the socket's `fetch_history`'s business.
      const messages: ChatMessage[] = (hasMore ? page.slice(1) : page).map((m) => publicCopy(m, []));
      return {
        body: {
          conversation: { ...summaryOf(conversation), participants: others.map((uid) => people.byId.get(uid)!) },
          messages,
          hasMore,
          nextBeforeSeq: hasMore ? messages[0].seq : null,
          presenceAvailable: people.available,
        },
      };
    },
  },
];

function summaryOf(c: Conversation) {
  return {
    id: c.id,
    type: c.type,
    name: c.name,
    memberCount: c.members.length,
    admins: c.admins,
    announcement: c.announcement,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
  };
}

/** The other members shown with presence, at most `max` (the rest are counted in memberCount). */
function othersOf(c: Conversation, uid: string, max: number): string[] {
  return c.members.filter((m) => m !== uid).slice(0, max);
}

/** Members share a conversation with the caller, so the presence rule lets it see them all. */
async function participants(call: ApiCall, uids: string[]): Promise<{ byId: Map<string, Participant>; available: boolean }> {
  const unique = [...new Set(uids)];
  const [presence, profiles] = await Promise.all([
    presenceViews(call.deps, call.caller.uid, unique, false),
    firestoreCall(call.deps, call.deps.profiles.profilesOf(unique), "Firebase Auth (profiles)"),
  ]);
  const byId = new Map<string, Participant>();
  presence.views.forEach((view) => byId.set(view.userId, withProfile(view, profiles.get(view.userId))));
  return { byId, available: presence.available };
}

function withProfile(view: PresenceView, profile: UserProfile | undefined): Participant {
  return { ...view, displayName: profile?.displayName ?? null, photoURL: profile?.photoURL ?? null };
}

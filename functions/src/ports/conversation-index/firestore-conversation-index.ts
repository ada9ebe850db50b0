import { toMessage } from "../message-store/message-doc";
import { publicCopy } from "../message-store/message-store";
import type { Firestore } from "firebase-admin/firestore";
import type { ChatMessage } from "../../protocol";
import type { ConversationCursor, ConversationIndex, ConversationPage, ListedConversation } from "./conversation-index";

/**
 * Pages with a range filter on `updatedAt` (`<= cursor.before`, ties skipped by id) instead of query
 * cursors, which the Node emulator ignores. Last messages: one small query per conversation, in parallel.
 */
export class FirestoreConversationIndex implements ConversationIndex {
  constructor(private readonly db: Firestore) {}

  async page(uid: string, limit: number, cursor?: ConversationCursor): Promise<ConversationPage> {
    let query = this.db.collection("conversations").where("members", "array-contains", uid);
    if (cursor) query = query.where("updatedAt", "<=", cursor.before);
    const snapshot = await query.orderBy("updatedAt", "desc").limit(limit + (cursor?.skip.length ?? 0) + 1).get();
    const skip = new Set(cursor?.skip ?? []);
    const rest = snapshot.docs.map((d) => toListed(d.id, d.data())).filter((c) => !(cursor && c.updatedAt === cursor.before && skip.has(c.id)));
    const conversations = rest.slice(0, limit);
    if (rest.length <= limit || conversations.length === 0) return { conversations };
    const last = conversations[conversations.length - 1].updatedAt;
    const tied = conversations.filter((c) => c.updatedAt === last).map((c) => c.id);
    return { conversations, next: { before: last, skip: [...(cursor && cursor.before === last ? cursor.skip : []), ...tied] } };
  }

  async lastMessages(conversationIds: string[]): Promise<Map<string, ChatMessage>> {
    const found = new Map<string, ChatMessage>();
    await Promise.all(
      conversationIds.map(async (id) => {
        const snapshot = await this.db.collection("conversations").doc(id).collection("messages").orderBy("seq", "desc").limit(1).get();
        if (!snapshot.empty) found.set(id, publicCopy(toMessage(snapshot.docs[0].data()), []));
      }),
    );
    return found;
  }
}

function toListed(id: string, data: FirebaseFirestore.DocumentData): ListedConversation {
  const createdAt = Number(data.createdAt);
  return {
    id: data.id ?? id,
    type: data.type,
    name: data.name ?? null,
    members: data.members ?? [],
    admins: data.admins ?? [],
    announcement: data.announcement ?? false,
    postingRoles: data.postingRoles ?? [],
    createdBy: data.createdBy,
    createdAt,
    updatedAt: Number(data.updatedAt ?? createdAt),
  };
}

import type { ChatMessage } from "../../protocol";
import type { Conversation } from "../message-store";

export interface ListedConversation extends Conversation {
  /** Last change of the conversation itself (created, members changed), ms. */
  updatedAt: number;
}

/** Conversations at `before` already returned (ties on updatedAt). */
export interface ConversationCursor {
  before: number;
  skip: string[];
}

export interface ConversationPage {
  conversations: ListedConversation[];
  next?: ConversationCursor;
}

/**
 * A user's conversations, newest change first, paged, and each conversation's last message: what a
 * chat list shows. Adapter: Firestore (`conversations where members array-contains uid orderBy
 * updatedAt desc`, composite index; the last message is `messages orderBy seq desc limit 1`).
 */
export interface ConversationIndex {
  page(uid: string, limit: number, cursor?: ConversationCursor): Promise<ConversationPage>;
  lastMessages(conversationIds: string[]): Promise<Map<string, ChatMessage>>;
}

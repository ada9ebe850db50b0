import { GatewayError } from "../../errors";
import type { MessageStore } from "../../ports/message-store";
import { CONVERSATION_EVENT_TYPES, type ConversationEventType, type MessageType, type ReplyRef } from "../../protocol";
import type { GatewayContext } from "../types";
import { storeCall } from "./store-calls";

export const PREVIEW_CHARS = 100;

/** A short cut of a message's content for replies and the conversation list; none for ciphertext. */
export function previewOf(message: { content: string; encryptionLevel: string }): string | null {
  if (message.encryptionLevel === "high") return null;
  return Array.from(message.content).slice(0, PREVIEW_CHARS).join("");
}

/** What a reply carries of the message it answers: NOT_FOUND unless that message is in the same conversation. */
export async function replyRefFor(ctx: GatewayContext, store: MessageStore, conversationId: string, replyToId: string): Promise<ReplyRef> {
  const original = await storeCall(ctx, store.getMessage(conversationId, replyToId), "reading the replied-to message");
  if (!original || isConversationEvent(original.type)) throw new GatewayError("NOT_FOUND", `replyToId: no message ${replyToId} in this conversation.`);
  return { id: original.id, senderId: original.senderId, type: original.type, preview: original.deleted ? null : previewOf(original) };
}

/** `edit` / `delete` events are not messages one answers or reacts to. */
export function isConversationEvent(type: MessageType | ConversationEventType): type is ConversationEventType {
  return (CONVERSATION_EVENT_TYPES as readonly string[]).includes(type);
}

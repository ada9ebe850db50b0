import type { Conversation } from "../../ports/message-store";
import type { OnlineDirectory } from "../../ports/presence-store/presence-store";
import type { ChatMessage } from "../../protocol";
import { GatewayContext, GatewaySocket, userRoom } from "../types";
import { conversationRoom } from "./rooms";

/**
 * Routing helpers for features that store sequenced conversation messages beside send_message (issue 14:
 * edits and deletions): who is offline (their copy goes to the offline queue), and the live emit.
 */

/** Recipients with no live connection anywhere; when presence cannot answer, those with no socket here. */
export async function offlineAmong(ctx: GatewayContext, online: OnlineDirectory, recipients: string[]): Promise<string[]> {
  if (recipients.length === 0) return [];
  const found = await online.onlineUsers(recipients).catch(() => locallyOnline(ctx, recipients));
  return recipients.filter((r) => !found.has(r));
}

function locallyOnline(ctx: GatewayContext, uids: string[]): Set<string> {
  const rooms = ctx.io.of("/").adapter.rooms;
  return new Set(uids.filter((uid) => (rooms.get(userRoom(uid))?.size ?? 0) > 0));
}

/** Every online device of every member, the caller's other devices included; never the calling socket. */
export function routeToMembers(socket: GatewaySocket, conversation: Conversation, message: ChatMessage): void {
  if (conversation.type === "group") {
    socket.to(conversationRoom(conversation.id)).emit("new_message", message);
    return;
  }
  for (const member of conversation.members) socket.to(userRoom(member)).emit("new_message", message);
}

import type { Conversation } from "../../ports/message-store";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { conversationRefSchema, typingStartSchema } from "./schemas";
import { GatewayError } from "../../errors";

/**
 * `typing_start` / `typing_stop`: reach the conversation's other members only, are never stored, and
 * end by themselves `typingTtlMs` after the last refresh (the server sends the stop if the client does not).
 */
export function typingFeature(ports: { conversations: (ctx: GatewayContext) => ConversationDirectory }) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    /** One timer per (socket, conversation) being typed in. */
    const timers = new Map<string, NodeJS.Timeout>();
    const keyOf = (socket: GatewaySocket, conversationId: string) => `${socket.id}:${conversationId}`;

    const announce = (socket: GatewaySocket, conversation: Conversation, isTyping: boolean) => {
      const payload = { conversationId: conversation.id, userId: socket.data.uid, isTyping, expiresInMs: isTyping ? ctx.config.typingTtlMs : 0 };
      if (conversation.type === "group") socket.to(conversationRoom(conversation.id)).except(userRoom(socket.data.uid)).emit("typing", payload);
      else for (const member of conversation.members) if (member !== socket.data.uid) socket.to(userRoom(member)).emit("typing", payload);
    };

    const stop = (socket: GatewaySocket, conversation: Conversation) => {
      const key = keyOf(socket, conversation.id);
      const timer = timers.get(key);
      if (!timer) return;
      clearTimeout(timer);
      timers.delete(key);
      announce(socket, conversation, false);
    };

    ctx.calls.define("typing_start", {
      schema: typingStartSchema,
      rateLimit: "typing",
      userAction: true,
      async handle({ conversationId, anonymous }, socket) {
        if (anonymous) throw new GatewayError("INVALID_ARGUMENT", "anonymous: typing is never relayed for anonymous composing (it would name the typist); do not send typing_start then.");
        const conversation = await conversations.requireMember(conversationId, socket.data.uid);
        const key = keyOf(socket, conversationId);
        clearTimeout(timers.get(key));
        timers.set(key, setTimeout(() => stop(socket, conversation), ctx.config.typingTtlMs));
        announce(socket, conversation, true);
      },
    });
    ctx.calls.define("typing_stop", {
      schema: conversationRefSchema,
      userAction: true,
      async handle({ conversationId }, socket) {
        stop(socket, await conversations.requireMember(conversationId, socket.data.uid));
      },
    });
    return {
      name: "typing",
      onDisconnect(socket) {
        for (const [key, timer] of timers) {
          if (!key.startsWith(`${socket.id}:`)) continue;
          clearTimeout(timer);
          timers.delete(key);
          const conversationId = key.slice(socket.id.length + 1);
          void conversations.get(conversationId).then((c) => c && announce(socket, c, false));
        }
      },
      async stop() {
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
      },
    };
  };
}

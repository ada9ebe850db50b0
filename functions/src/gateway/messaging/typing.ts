import { GatewayError } from "../../errors";
import type { RateLimiter } from "../../ports/rate-limiter";
import { registerCall } from "../calls";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import type { MembershipCache } from "./membership";
import { conversationRoom } from "./rooms";
import { conversationRefSchema, parsePayload } from "./schemas";

/**
 * `typing_start` / `typing_stop`: reach the conversation's other members only, are never stored, and
 * end by themselves `typingTtlMs` after the last refresh (the server sends the stop if the client does not).
 */
export function typingFeature(deps: { rateLimiter: RateLimiter; membership: () => MembershipCache }) {
  return (ctx: GatewayContext): GatewayFeature => {
    const timers = new Map<string, NodeJS.Timeout>();

    const announce = (socket: GatewaySocket, conversationId: string, isTyping: boolean, members: string[], group: boolean) => {
      const payload = { conversationId, userId: socket.data.uid, isTyping, expiresInMs: isTyping ? ctx.config.typingTtlMs : 0 };
      if (group) socket.to(conversationRoom(conversationId)).except(userRoom(socket.data.uid)).emit("typing", payload);
      else for (const member of members) if (member !== socket.data.uid) socket.to(userRoom(member)).emit("typing", payload);
    };

    const stop = (socket: GatewaySocket, conversationId: string, members: string[], group: boolean) => {
      const key = `${socket.id}:${conversationId}`;
      const timer = timers.get(key);
      if (!timer) return;
      clearTimeout(timer);
      timers.delete(key);
      announce(socket, conversationId, false, members, group);
    };

    const conversationFor = async (socket: GatewaySocket, raw: unknown) => {
      const { conversationId } = parsePayload(conversationRefSchema, raw);
      const conversation = await deps.membership().requireMember(conversationId, socket.data.uid);
      return { conversationId, members: conversation.members, group: conversation.type === "group" };
    };

    return {
      name: "typing",
      onConnection(socket) {
        const options = { logger: ctx.logger };
        registerCall(socket, "typing_start", async (raw) => {
          const rule = ctx.config.rateLimits.typing;
          if (rule) {
            const decision = await deps.rateLimiter.consume(`typing:${socket.data.uid}`, rule.limit, rule.windowMs);
            if (!decision.allowed) {
              throw new GatewayError("RATE_LIMITED", `At most ${rule.limit} typing events per ${rule.windowMs / 1000} s.`, { retryAfterMs: decision.retryAfterMs });
            }
          }
          const { conversationId, members, group } = await conversationFor(socket, raw);
          const key = `${socket.id}:${conversationId}`;
          clearTimeout(timers.get(key));
          timers.set(key, setTimeout(() => stop(socket, conversationId, members, group), ctx.config.typingTtlMs));
          announce(socket, conversationId, true, members, group);
        }, options);
        registerCall(socket, "typing_stop", async (raw) => {
          const { conversationId, members, group } = await conversationFor(socket, raw);
          stop(socket, conversationId, members, group);
        }, options);
      },
      onDisconnect(socket) {
        for (const [key, timer] of timers) {
          if (!key.startsWith(`${socket.id}:`)) continue;
          clearTimeout(timer);
          timers.delete(key);
          const conversationId = key.slice(socket.id.length + 1);
          void deps.membership().get(conversationId).then((c) => c && announce(socket, conversationId, false, c.members, c.type === "group"));
        }
      },
      async stop() {
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
      },
    };
  };
}

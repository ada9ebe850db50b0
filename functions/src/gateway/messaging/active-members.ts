import type { BlockChecks } from "../../ports/block-list";
import type { PresenceStore } from "../../ports/presence-store/presence-store";
import type { GatewayContext, GatewayFeature } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { conversationRefSchema } from "./schemas";

export interface ActiveMembersPorts {
  presence: Pick<PresenceStore, "get">;
  blocks: BlockChecks;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

/**
 * `get_active_members { conversationId }`: the members connected now (online, away or busy) with their
 * presence, the caller included; members only (NOT_FOUND otherwise). Members who blocked the caller are left out.
 */
export function activeMembersFeature(ports: ActiveMembersPorts) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    ctx.calls.define("get_active_members", {
      schema: conversationRefSchema,
      async handle({ conversationId }, socket) {
        const { uid } = socket.data;
        const conversation = await conversations.requireMember(conversationId, uid);
        const [presence, blockers] = await Promise.all([ports.presence.get(conversation.members), ports.blocks.blockersOf(uid)]);
        return { members: presence.filter((p) => p.status !== "offline" && !blockers.has(p.userId)) };
      },
    });
    return { name: "active-members" };
  };
}

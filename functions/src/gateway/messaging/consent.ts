import { GatewayError } from "../../errors";
import type { ConsentStore } from "../../ports/consent";
import type { Conversation, MessageStore } from "../../ports/message-store";
import type { GroupInvitation, HistoryVisibility } from "../../protocol";
import { emptySchema } from "../payloads";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import { ConversationDirectory, hasAnyRole, notifyMembers, summary } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { conversationRefSchema } from "./schemas";
import { storeCall } from "./store-calls";

/** Most invitations `list_invitations` answers (newest first). */
const LISTED_INVITATIONS = 100;

export interface ConsentPorts {
  store: MessageStore;
  consent: ConsentStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

/**
 * The consent policy (issue 12; docs/PROTOCOL.md "Consent"), shared by sending, groups and history:
 * who may message a user first (`consentDirectMessages`), who may add a user to a group directly
 * (`consentGroupAdds`; other adds become invitations), and from which seq members added later read history.
 * Blocking is checked by the callers first: a blocked user gets PERMISSION_DENIED, never an invitation.
 */
export class ConsentPolicy {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: Pick<ConsentPorts, "store" | "consent">,
  ) {}

  /** With `shared_group`, opening a direct conversation needs a group in common (PERMISSION_DENIED otherwise). */
  async requireMayMessageFirst(from: string, to: string): Promise<void> {
    if (this.ctx.config.consentDirectMessages === "everyone") return;
    const conversations = await storeCall(this.ctx, this.ports.store.conversationsOf(from), "checking consent");
    if (conversations.some((c) => c.type === "group" && c.members.includes(to))) return;
    throw new GatewayError("PERMISSION_DENIED", `${to} accepts first messages only from people who share a group with them.`, { reason: "CONSENT" });
  }

  /** Which of `uids` `adder` may add now; the others are to be invited. */
  async splitAdds(adder: string, roles: string[], uids: string[]): Promise<{ now: string[]; invited: string[] }> {
    if (this.ctx.config.consentGroupAdds === "anyone" || hasAnyRole(roles, this.ctx.config.moderatorRoles) || uids.length === 0) return { now: uids, invited: [] };
    const conversations = await storeCall(this.ctx, this.ports.store.conversationsOf(adder), "checking consent");
    const direct = new Set(conversations.filter((c) => c.type === "direct").flatMap((c) => c.members));
    return { now: uids.filter((u) => direct.has(u)), invited: uids.filter((u) => !direct.has(u)) };
  }

  /** Stores the invitations and tells each invitee's devices (`group_invitation`). */
  async invite(conversation: Conversation, uids: string[], by: string): Promise<void> {
    if (uids.length === 0) return;
    const invitedAt = this.ctx.clock.now();
    const invitations: GroupInvitation[] = uids.map((uid) => ({ conversationId: conversation.id, uid, name: conversation.name, invitedBy: by, invitedAt }));
    await storeCall(this.ctx, this.ports.consent.invite(invitations), "storing invitations");
    for (const invitation of invitations) this.ctx.io.to(userRoom(invitation.uid)).emit("group_invitation", invitation);
  }

  async setHistoryVisibility(conversation: Conversation, visibility: HistoryVisibility): Promise<void> {
    if (visibility !== "joined") await storeCall(this.ctx, this.ports.consent.setHistoryVisibility(conversation.id, visibility), "storing history visibility");
  }

  /** Before members join an existing group: with `joined` visibility they will read history after today's last seq only. */
  async recordJoins(conversationId: string, uids: string[]): Promise<void> {
    if (uids.length === 0) return;
    const { consent, store } = this.ports;
    if ((await storeCall(this.ctx, consent.historyVisibility(conversationId), "reading history visibility")) === "all") return;
    const afterSeq = await storeCall(this.ctx, store.highestSeq(conversationId), "reading the last seq");
    await storeCall(this.ctx, consent.recordJoins(conversationId, uids, afterSeq), "recording joins");
  }
}

/** `list_invitations`, `accept_invitation`, `decline_invitation`. */
export function invitationsFeature(ports: ConsentPorts, policy: (ctx: GatewayContext) => ConsentPolicy) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    const consent = policy(ctx);
    const accept = async (socket: GatewaySocket, conversationId: string) => {
      const uid = socket.data.uid;
      const invitation = await storeCall(ctx, ports.consent.invitation(conversationId, uid), "reading the invitation");
      const conversation = invitation ? await conversations.get(conversationId) : undefined;
      if (!invitation || !conversation) throw new GatewayError("NOT_FOUND", `No invitation to ${conversationId}.`);
      if (!conversation.members.includes(uid)) {
        if (conversation.members.length + 1 > ctx.config.maxGroupMembers) throw new GatewayError("INVALID_ARGUMENT", `conversationId: the group is full (${ctx.config.maxGroupMembers}).`);
        await consent.recordJoins(conversationId, [uid]);
      }
      const updated = await storeCall(ctx, ports.store.updateMembers(conversationId, { add: [uid], remove: [] }, ctx.clock.now()), "updating members");
      await storeCall(ctx, ports.consent.removeInvitation(conversationId, uid), "removing the invitation");
      ctx.io.in(userRoom(uid)).socketsJoin(conversationRoom(conversationId));
      conversations.changed(updated, { added: [uid], removed: [], created: false, by: uid });
      notifyMembers(ctx, updated, updated.members);
      return { conversation: summary(updated) };
    };
    ctx.calls.define("list_invitations", {
      schema: emptySchema,
      handle: async (_, socket) => ({ invitations: await storeCall(ctx, ports.consent.invitationsOf(socket.data.uid, LISTED_INVITATIONS), "listing invitations") }),
    });
    ctx.calls.define("accept_invitation", { schema: conversationRefSchema, userAction: true, handle: ({ conversationId }, socket) => accept(socket, conversationId) });
    ctx.calls.define("decline_invitation", {
      schema: conversationRefSchema,
      userAction: true,
      handle: async ({ conversationId }, socket) => {
        await storeCall(ctx, ports.consent.removeInvitation(conversationId, socket.data.uid), "removing the invitation");
        return {};
      },
    });
    return {
      name: "invitations",
    };
  };
}

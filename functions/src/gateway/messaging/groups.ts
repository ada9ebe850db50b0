import { randomBytes } from "node:crypto";
import { GatewayError } from "../../errors";
import type { Conversation, MessageStore } from "../../ports/message-store";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import { ConversationDirectory, hasAnyRole, notifyMembers, summary } from "./conversation-directory";
import { conversationRoom } from "./rooms";
import { createGroupSchema, membersChangeSchema } from "./schemas";
import { storeCall } from "./store-calls";
import type { BlockChecks } from "../../ports/block-list";
import type { ConsentPolicy } from "./consent";

export interface GroupsPorts {
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  /** A user cannot add someone who blocked it (issue 14). */
  blocks?: BlockChecks;
  /** Consent (issue 12): adds the policy does not allow become invitations; history from the join. */
  consent?: (ctx: GatewayContext) => ConsentPolicy;
}

/** Groups: `create_group`, `add_members`, `remove_members`. */
export function groupsFeature(ports: GroupsPorts) {
  return (ctx: GatewayContext): GatewayFeature => new Groups(ctx, ports);
}

class Groups implements GatewayFeature {
  readonly name = "groups";
  private readonly conversations: ConversationDirectory;
  private readonly consent?: ConsentPolicy;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: GroupsPorts,
  ) {
    this.conversations = ports.conversations(ctx);
    this.consent = ports.consent?.(ctx);
    this.defineCalls();
  }

  private defineCalls(): void {
    const { calls } = this.ctx;
    calls.define("create_group", { schema: createGroupSchema, userAction: true, handle: (p, socket) => this.create(socket, p) });
    calls.define("add_members", { schema: membersChangeSchema, userAction: true, handle: (p, socket) => this.change(socket, p, "add") });
    calls.define("remove_members", { schema: membersChangeSchema, userAction: true, handle: (p, socket) => this.change(socket, p, "remove") });
    // list_conversations: the conversation-list feature (issue 14).
  }

  private async create(socket: GatewaySocket, payload: { name: string; memberIds: string[]; announcement: boolean; postingRoles: string[]; historyVisibility: "joined" | "all" }) {
    const { uid, roles } = socket.data;
    const { announcementRoles } = this.ctx.config;
    if (payload.announcement && !hasAnyRole(roles, announcementRoles)) {
      throw new GatewayError("PERMISSION_DENIED", `Announcement groups need one of the roles: ${announcementRoles.join(", ")}.`);
    }
    const members = [...new Set([uid, ...payload.memberIds])];
    this.checkGroupSize(members.length);
    await this.conversations.requireUsers(members.filter((m) => m !== uid));
    await this.requireNotBlockedBy(uid, payload.memberIds);
    const { now, invited } = await this.splitAdds(socket, members.filter((m) => m !== uid));
    members.splice(0, members.length, uid, ...now);
    const conversation = await storeCall(
      this.ctx,
      this.ports.store.createConversation({
        id: `grp_${randomBytes(10).toString("hex")}`,
        type: "group",
        name: payload.name,
        members,
        admins: [uid],
        announcement: payload.announcement,
        postingRoles: payload.postingRoles,
        createdBy: uid,
        createdAt: this.ctx.clock.now(),
      }),
      "creating the group",
    );
    await this.consent?.setHistoryVisibility(conversation, payload.historyVisibility);
    this.joinRooms(conversation, members);
    this.conversations.changed(conversation, { added: members, removed: [], created: true, by: uid });
    notifyMembers(this.ctx, conversation, members);
    await this.consent?.invite(conversation, invited, uid);
    return { conversation: summary(conversation), invited };
  }

  /** Consent (issue 12): who is added now and who is invited instead. */
  private async splitAdds(socket: GatewaySocket, uids: string[]): Promise<{ now: string[]; invited: string[] }> {
    return this.consent ? this.consent.splitAdds(socket.data.uid, socket.data.roles, uids) : { now: uids, invited: [] };
  }

  private async change(socket: GatewaySocket, { conversationId, memberIds }: { conversationId: string; memberIds: string[] }, change: "add" | "remove") {
    const { uid, roles } = socket.data;
    const current = await this.conversations.requireMember(conversationId, uid);
    if (current.type !== "group") throw new GatewayError("INVALID_ARGUMENT", "Members of a direct conversation cannot change.");
    const leavingAlone = change === "remove" && memberIds.length === 1 && memberIds[0] === uid;
    if (!leavingAlone && !current.admins.includes(uid) && !hasAnyRole(roles, this.ctx.config.moderatorRoles)) {
      throw new GatewayError("PERMISSION_DENIED", "Only the group's admins or moderators may change its members.");
    }
    if (change === "add") {
      this.checkGroupSize(new Set([...current.members, ...memberIds]).size);
      await this.conversations.requireUsers(memberIds);
      await this.requireNotBlockedBy(uid, memberIds);
    }
    const { now: adding, invited } = change === "add" ? await this.splitAdds(socket, memberIds.filter((m) => !current.members.includes(m))) : { now: [], invited: [] };
    if (change === "add" && adding.length === 0) {
      await this.consent?.invite(current, invited, uid);
      return { conversation: summary(current), invited };
    }
    if (change === "add") await this.consent?.recordJoins(conversationId, adding);
    const delta = change === "add" ? { add: adding, remove: [] } : { add: [], remove: memberIds };
    const updated = await storeCall(this.ctx, this.ports.store.updateMembers(conversationId, delta, this.ctx.clock.now()), "updating members");
    if (change === "add") this.joinRooms(updated, delta.add);
    else this.leaveRooms(updated, memberIds);
    this.conversations.changed(updated, { added: delta.add, removed: delta.remove, created: false, by: uid });
    notifyMembers(this.ctx, updated, updated.members);
    await this.consent?.invite(updated, invited, uid);
    return { conversation: summary(updated), invited };
  }

  private async requireNotBlockedBy(uid: string, memberIds: string[]): Promise<void> {
    if (!this.ports.blocks || memberIds.length === 0) return;
    const blockers = await this.ports.blocks.blockersOf(uid);
    const refusing = memberIds.filter((m) => blockers.has(m));
    if (refusing.length > 0) throw new GatewayError("PERMISSION_DENIED", `You cannot add ${refusing.slice(0, 10).join(", ")}.`);
  }

  private checkGroupSize(size: number): void {
    const max = this.ctx.config.maxGroupMembers;
    if (size > max) throw new GatewayError("INVALID_ARGUMENT", `memberIds: a group has at most ${max} members.`);
  }

  private joinRooms(conversation: Conversation, uids: string[]): void {
    for (const uid of uids) this.ctx.io.in(userRoom(uid)).socketsJoin(conversationRoom(conversation.id));
  }

  private leaveRooms(conversation: Conversation, uids: string[]): void {
    for (const uid of uids) {
      this.ctx.io.in(userRoom(uid)).socketsLeave(conversationRoom(conversation.id));
      this.ctx.io.to(userRoom(uid)).emit("conversation_removed", { conversationId: conversation.id });
    }
  }
}

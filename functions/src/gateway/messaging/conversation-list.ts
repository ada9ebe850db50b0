import type { z } from "zod";
import type { BlockChecks } from "../../ports/block-list";
import type { Conversation, MessageStore, StoredMessage } from "../../ports/message-store";
import type { PresenceStore } from "../../ports/presence-store/presence-store";
import type { UserRecords } from "../../ports/user-records/user-records";
import type { ConversationListItem, LastMessagePreview, MessageType } from "../../protocol";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "../types";
import { summary } from "./conversation-directory";
import { isConversationEvent, previewOf } from "./replies";
import { listConversationsSchema } from "./schemas";
import { storeCall } from "./store-calls";

export interface ConversationListPorts {
  store: MessageStore;
  presence: Pick<PresenceStore, "get">;
  records: Pick<UserRecords, "lastSeenOf">;
  blocks: BlockChecks;
}

/** Newest messages read to find the last one that is not an edit/delete event. */
const LAST_MESSAGE_WINDOW = 10;
/** How often an instance writes the `lastActivityAt` of conversations that had messages (one write each). */
const ACTIVITY_FLUSH_MS = 500;

type ListPayload = z.output<typeof listConversationsSchema>;

/**
 * Issue 14: `list_conversations { limit?, before? }` — the caller's conversations by last activity (newest
 * first), paged, each with its unread count, last message and, for direct ones, the other member's
 * presence; and `unread_changed` to all of a user's devices when it reads on one of them.
 *
 * Cost: the send path only records the conversation in a map; `lastActivityAt` is written once per
 * conversation per ACTIVITY_FLUSH_MS per instance. A page reads, per conversation shown, its newest
 * messages, the caller's receipt and, when there is something unread, two `count()` aggregations.
 */
export function conversationListFeature(ports: ConversationListPorts) {
  return (ctx: GatewayContext): GatewayFeature => new ConversationList(ctx, ports);
}

class ConversationList implements GatewayFeature {
  readonly name = "conversation-list";
  private readonly activity = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: ConversationListPorts,
  ) {
    ctx.hooks.on("messageStored", ({ message }) => {
      this.activity.set(message.conversationId, Math.max(this.activity.get(message.conversationId) ?? 0, message.createdAt));
    });
    ctx.hooks.on("readAdvanced", (read) => this.announceUnread(read.uid, read.conversationId, read.readSeq));
    this.timer = setInterval(() => void this.flushActivity(), ACTIVITY_FLUSH_MS);
    this.timer.unref();
    this.defineCalls();
  }

  private defineCalls(): void {
    this.ctx.calls.define("list_conversations", { schema: listConversationsSchema, handle: (p, socket) => this.list(socket, p) });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushActivity();
  }

  private async flushActivity(): Promise<void> {
    if (this.activity.size === 0) return;
    const updates = [...this.activity].map(([conversationId, at]) => ({ conversationId, at }));
    this.activity.clear();
    try {
      await this.ports.store.touchConversations(updates);
    } catch (error) {
      this.ctx.logger.warn("conversation activity write failed", { conversations: updates.length, error: String(error) });
    }
  }

  private async list(socket: GatewaySocket, payload: ListPayload) {
    const { uid } = socket.data;
    const limit = Math.min(payload?.limit ?? this.ctx.config.conversationListPageDefault, this.ctx.config.conversationListPageMax);
    const all = await storeCall(this.ctx, this.ports.store.conversationsOf(uid), "listing conversations");
    const ordered = all.map((c) => ({ conversation: c, cursor: this.cursorOf(c) })).sort((a, b) => compareCursors(b.cursor, a.cursor));
    // Without limit and cursor: every conversation, summaries only, no further read (the clients' resume path).
    if (payload?.limit === undefined && payload?.before === undefined) return { conversations: ordered.map((c) => summary(c.conversation)), nextCursor: null };
    const after = payload?.before;
    const page = ordered.filter((c) => after === undefined || compareCursors(c.cursor, after) < 0).slice(0, limit + 1);
    const shown = page.slice(0, limit);
    const blockers = await this.ports.blocks.blockersOf(uid);
    const conversations = await Promise.all(shown.map(({ conversation }) => this.itemFor(uid, conversation, blockers)));
    const nextCursor = page.length > limit ? shown[shown.length - 1].cursor : null;
    return { conversations, nextCursor };
  }

  /** `lastActivityAt:id`, newest first; activity this instance has not written yet counts too. */
  private cursorOf(conversation: Conversation): string {
    const activity = Math.max(conversation.lastActivityAt ?? conversation.createdAt, this.activity.get(conversation.id) ?? 0);
    return `${activity}:${conversation.id}`;
  }

  private async itemFor(uid: string, conversation: Conversation, blockers: Set<string>): Promise<ConversationListItem> {
    const [newest, readSeq, peer] = await Promise.all([
      storeCall(this.ctx, this.ports.store.history(conversation.id, { limit: LAST_MESSAGE_WINDOW }), "reading the last message"),
      storeCall(this.ctx, this.ports.store.readSeqOf(conversation.id, uid), "reading receipts"),
      this.peerOf(uid, conversation, blockers),
    ]);
    const lastSeq = newest.length > 0 ? newest[newest.length - 1].seq : 0;
    const unreadCount = lastSeq > readSeq ? await this.unread(conversation.id, uid, readSeq) : 0;
    const last = [...newest].reverse().find((m) => !isConversationEvent(m.type));
    const lastActivityAt = Math.max(conversation.lastActivityAt ?? conversation.createdAt, newest.length > 0 ? newest[newest.length - 1].createdAt : 0);
    return { ...summary(conversation), unreadCount, readSeq, lastMessage: last ? lastMessageOf(last) : null, lastActivityAt, ...(peer ? { peer } : {}) };
  }

  private unread(conversationId: string, uid: string, readSeq: number): Promise<number> {
    return storeCall(this.ctx, this.ports.store.unreadCount(conversationId, uid, readSeq), "counting unread messages");
  }

  /** The other member of a direct conversation, as the caller may see it (a blocker shows offline, no lastSeen). */
  private async peerOf(uid: string, conversation: Conversation, blockers: Set<string>): Promise<ConversationListItem["peer"]> {
    if (conversation.type !== "direct") return undefined;
    const other = conversation.members.find((m) => m !== uid) ?? uid;
    if (blockers.has(other)) return { userId: other, isOnline: false, status: "offline", lastSeen: null };
    const [presence] = await this.ports.presence.get([other]).catch(() => [undefined]);
    const status = presence?.status ?? "offline";
    let lastSeen = presence?.lastSeen ?? null;
    if (status === "offline" && lastSeen === null) lastSeen = (await this.ports.records.lastSeenOf([other]).catch(() => new Map<string, number>())).get(other) ?? null;
    return { userId: other, isOnline: status !== "offline", status, lastSeen: status === "offline" ? lastSeen : null };
  }

  /** After a read on any device: every device of the user learns the new count. */
  private async announceUnread(uid: string, conversationId: string, readSeq: number): Promise<void> {
    const unreadCount = await this.unread(conversationId, uid, readSeq);
    this.ctx.io.to(userRoom(uid)).emit("unread_changed", { conversationId, unreadCount, readSeq });
  }
}

function lastMessageOf(message: StoredMessage): LastMessagePreview {
  const base = { id: message.id, senderId: message.senderId, seq: message.seq, createdAt: message.createdAt, type: message.type as MessageType };
  return message.deleted ? { ...base, preview: null, deleted: true } : { ...base, preview: previewOf(message) };
}

/** Cursors `activity:id` in list order: by activity, then by id. */
function compareCursors(a: string, b: string): number {
  const [activityA, idA] = splitCursor(a);
  const [activityB, idB] = splitCursor(b);
  if (activityA !== activityB) return activityA - activityB;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

function splitCursor(cursor: string): [number, string] {
  const at = cursor.indexOf(":");
  return [Number(cursor.slice(0, at)), cursor.slice(at + 1)];
}

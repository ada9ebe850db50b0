import { Calls, type CallInfo } from "./calls.js";
import { Connection, type ConnectionOptions, type TalowaSocket } from "./connection.js";
import { Emitter } from "./emitter.js";
import { TalowaError } from "./errors.js";
import type {
  Ack,
  AuthSuccessPayload,
  CallInitiatePayload,
  CallInitiateResult,
  ChatMessage,
  ConversationEventResult,
  ConversationListItem,
  ConversationSummary,
  DeliveryStatusPayload,
  EmergencyBroadcastPayload,
  GroupInvitation,
  HistoryVisibility,
  IceCandidate,
  MessageType,
  NotificationItem,
  NotificationsChangedPayload,
  ReactionResult,
  PresencePrivacySettings,
  ReceiptState,
  ReceiptSummaryPayload,
  SendMessagePayload,
  SendMessageResult,
  UpdatePresencePayload,
  UserPresence,
  UserProfile,
} from "./generated/protocol.js";
import { Inbox, type InboxStats, type InitialSync, type Requester } from "./inbox.js";
import { MessageLog, type MessageDeletion, type MessageEdit, type ReactionsChange } from "./messages.js";
import { NotificationCenter, type NotificationsPage } from "./notifications.js";
import { Outbox, type OutboxEntry } from "./outbox.js";
import { Receipts, type DeliveryState, type ReceiptSummary } from "./receipts.js";
import { MemoryStorage, type ClientStorage } from "./storage.js";
import { TypingSender, TypingWatcher, type TypingOptions } from "./typing.js";
import { UnreadCounts } from "./unread.js";

export interface TalowaClientOptions extends ConnectionOptions {
  /** Cursors, outbox and shown broadcasts; MemoryStorage by default, IndexedDbStorage in browsers. */
  storage?: ClientStorage;
  /** Where to start in a conversation without a cursor (see InitialSync); default "recent". */
  initialSync?: InitialSync;
  /** Deliveries are confirmed (mark_delivered) in batches, at most this often; default 250 ms. */
  confirmDelayMs?: number;
  /** Tries per message before send() gives up; time-outs count; default 30. */
  maxSendAttempts?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  typing?: Partial<TypingOptions>;
  /** Acknowledge each emergency broadcast (ack_broadcast) once it was handed to the app; default true. */
  autoAckBroadcasts?: boolean;
  /** Messages kept per conversation for messages() (the newest by seq); default 500; 0 keeps none (the events still come). */
  messagesKept?: number;
  /** After a lost connection, how long a call waits for call_resumed before it ends here; default 15 s (the gateway's grace is 10 s). */
  callResumeGraceMs?: number;
}

/**
 * - connecting: no admitted connection (first attempt, or after a loss);
 * - resuming: admitted, catching up (offline queue, history); send() waits;
 * - ready: caught up; live.
 * - signed-out / failed / closed: final; make a new client after signing in again.
 */
export type ClientState = "idle" | "connecting" | "resuming" | "ready" | "signed-out" | "failed" | "closed";

/** What send() takes: a message without its clientId (one is made) and type (default "text"). */
export type SendInput = Omit<SendMessagePayload, "clientId" | "type"> & { clientId?: string; type?: MessageType };

export interface ClientStats extends InboxStats {
  /** Admissions: the first connection plus every reconnection. */
  connects: number;
}

export type TalowaClientEvents = {
  state: (state: ClientState) => void;
  /** Connected and caught up (after the first connection and after every reconnection). */
  ready: (welcome: AuthSuccessPayload) => void;
  disconnected: (reason: string) => void;
  /** Each conversation's messages in seq order, each id once (yours too, once acknowledged). */
  message: (message: ChatMessage) => void;
  /** The conversation list changed (new conversation, members changed, removed). */
  conversations: (conversations: ConversationSummary[]) => void;
  receipt: (payload: DeliveryStatusPayload) => void;
  /** Who is typing in a conversation now. */
  typing: (conversationId: string, userIds: string[]) => void;
  presence: (presence: UserPresence) => void;
  /** Someone who may not add you directly invited you to a group (issue 12): acceptInvitation / declineInvitation. */
  invitation: (invitation: GroupInvitation) => void;
  /** An emergency broadcast, each id once (also across restarts with a persistent storage). */
  emergency: (broadcast: EmergencyBroadcastPayload) => void;
  /** Messages not yet acknowledged, oldest first. */
  outbox: (pending: OutboxEntry[]) => void;
  sent: (clientId: string, result: SendMessageResult) => void;
  send_failed: (clientId: string, error: TalowaError) => void;
  /**
   * The conversation's unread count changed: messages (and edit / delete events) from others above your read
   * position. The server's count (unread_changed after a read on any of your devices, listConversations) plus
   * what arrived since.
   */
  unread: (conversationId: string, count: number) => void;
  /** A kept message changed: edited, deleted (a tombstone), its reactions, or the preview of the message it answers. */
  message_updated: (message: ChatMessage) => void;
  /** An `edit` event was applied (in seq order; `message` is the kept message as it is now, when kept). */
  message_edited: (edit: MessageEdit) => void;
  /** A `delete` event was applied: the kept message is a tombstone now. */
  message_deleted: (deletion: MessageDeletion) => void;
  /** A message's reactions changed (a member, another device of yours, or this one). */
  reactions: (change: ReactionsChange) => void;
  /** "Read by N of M" for one of your group messages (the server's count). */
  receipt_summary: (summary: ReceiptSummaryPayload) => void;
  /** Any change of a call of this device (ringing, active, ended). */
  call: (call: CallInfo) => void;
  /** Someone calls you (every device of yours rings): answerCall or rejectCall. */
  call_incoming: (call: CallInfo) => void;
  /** Your call was answered: set the remote description from `sdpAnswer`; kept ICE candidates go out now. */
  call_answered: (call: CallInfo, sdpAnswer: string) => void;
  /** The call is over for this device (`endedReason`: answered_elsewhere, rejected, ended, cancelled, missed, busy, disconnected). */
  call_ended: (call: CallInfo) => void;
  /** A call to you rang out with nobody answering (a `missed_call` notification is stored too). */
  call_missed: (call: CallInfo) => void;
  /** An ICE candidate of the other party's device: addIceCandidate. */
  call_ice_candidate: (callId: string, candidate: IceCandidate, from: string) => void;
  /** This connection took the place of your device that dropped out of a call: restart ICE from here. */
  call_resumed: (call: CallInfo) => void;
  /** A new entry of your notification center (each id once). */
  notification: (notification: NotificationItem) => void;
  /** The notification center changed (new entry, read, cleared, on any device): the entries known here and the unread count. */
  notifications: (notifications: NotificationItem[], unreadCount: number | undefined) => void;
  /** Another device of yours read or cleared notifications (already applied to `notifications`). */
  notifications_changed: (change: NotificationsChangedPayload) => void;
  /** The account was disabled or its tokens revoked: sign the user out. Final. */
  signed_out: (reason: string) => void;
  token_refreshed: (expiresAt: number | null) => void;
  error: (error: TalowaError) => void;
};

const BROADCASTS_KEPT = 200;
const SUBSCRIBE_CHUNK = 500;

/**
 * The TALOWA client: one object per signed-in user. See client/README.md.
 *
 *   const client = new TalowaClient({ url, getToken: ({ forceRefresh }) => user.getIdToken(forceRefresh) });
 *   client.on("message", (m) => show(m));
 *   await client.start();
 *   await client.send({ recipientId, content: "hello" });
 */
export class TalowaClient extends Emitter<TalowaClientEvents> {
  private readonly connection: Connection;
  private readonly storage: ClientStorage;
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  private readonly receipts = new Receipts();
  private readonly messageLog: MessageLog;
  private readonly unreadCounts = new UnreadCounts((conversationId, count) => this.emit("unread", conversationId, count));
  private readonly callsState: Calls;
  private readonly notificationCenter = new NotificationCenter((items, unread) => this.emit("notifications", items, unread));
  private readonly typingSender: TypingSender;
  private readonly typingWatcher: TypingWatcher;
  private readonly conversationMap = new Map<string, ConversationSummary>();
  private readonly presenceMap = new Map<string, UserPresence>();
  private readonly followed = new Set<string>();
  private readonly ownIds = new Set<string>();
  private shownBroadcasts: string[] = [];
  private appState?: "foreground" | "background";
  private welcomePayload?: AuthSuccessPayload;
  /** When the current connection was admitted: copies the inbox hands were read from the server after it. */
  private admittedAt = 0;
  private currentState: ClientState = "idle";
  private readonly autoAckBroadcasts: boolean;
  private resumeGeneration = 0;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: TalowaError) => void }> = [];

  constructor(options: TalowaClientOptions) {
    super();
    this.storage = options.storage ?? new MemoryStorage();
    this.autoAckBroadcasts = options.autoAckBroadcasts ?? true;
    this.connection = new Connection(options);
    this.inbox = new Inbox({
      storage: this.storage,
      initialSync: options.initialSync ?? "recent",
      confirmDelayMs: options.confirmDelayMs ?? 250,
      hand: (message) => this.handed(message),
      isOwn: (message) => this.isOwn(message),
      confirm: (conversationId, upToSeq) => this.emitIfAdmitted("mark_delivered", { conversationId, upToSeq }),
    });
    this.outbox = new Outbox({
      storage: this.storage,
      ready: () => this.ready().then(() => this.requester(this.connection.socket!)),
      maxAttempts: options.maxSendAttempts ?? 30,
      minRetryDelayMs: options.minRetryDelayMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 10_000,
      changed: (pending) => this.emit("outbox", pending),
      sent: (entry, result) => this.sent(entry, result),
      failed: (entry, error) => this.emit("send_failed", entry.clientId, error),
    });
    this.typingSender = new TypingSender((event, conversationId) => this.emitIfAdmitted(event, { conversationId }), {
      refreshMs: options.typing?.refreshMs ?? 3_000,
      idleMs: options.typing?.idleMs ?? 4_000,
    });
    this.typingWatcher = new TypingWatcher((conversationId, userIds) => this.emit("typing", conversationId, userIds));
    this.messageLog = new MessageLog({
      kept: options.messagesKept ?? 500,
      uid: () => this.uid,
      updated: (message) => this.emit("message_updated", message),
      edited: (edit) => this.emit("message_edited", edit),
      deleted: (deletion) => this.emit("message_deleted", deletion),
      reactions: (change) => this.emit("reactions", change),
    });
    this.callsState = new Calls({
      call: (event, payload) => this.call(event, payload),
      resumeGraceMs: options.callResumeGraceMs ?? 15_000,
      uid: () => this.uid,
      changed: (call) => this.emit("call", call),
      incoming: (call) => this.emit("call_incoming", call),
      answered: (call, sdpAnswer) => this.emit("call_answered", call, sdpAnswer),
      ended: (call) => this.emit("call_ended", call),
      missed: (call) => this.emit("call_missed", call),
      candidate: (callId, candidate, from) => this.emit("call_ice_candidate", callId, candidate, from),
      resumed: (call) => this.emit("call_resumed", call),
    });
    this.connection.on("socket", (socket) => this.listen(socket));
    this.connection.on("open", (socket, welcome) => {
      this.notificationCenter.admitted(welcome.unreadNotifications);
      void this.resume(socket, welcome);
    });
    this.connection.on("close", (reason) => this.lost(reason));
    this.connection.on("signed_out", (reason) => this.finish("signed-out", () => this.emit("signed_out", reason)));
    this.connection.on("fatal", (error) => this.finish("failed", () => this.emit("error", error)));
    this.connection.on("token_refreshed", (expiresAt) => this.emit("token_refreshed", expiresAt));
    this.connection.on("attempt_failed", () => this.setState("connecting"));
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Loads what storage kept (cursors, unsent messages, shown broadcasts), then connects. */
  async start(): Promise<void> {
    if (this.currentState !== "idle") return;
    this.setState("connecting");
    this.shownBroadcasts = (await this.storage.get<string[]>("broadcasts")) ?? [];
    await this.inbox.load();
    await this.outbox.load();
    if ((this.currentState as ClientState) !== "connecting") return; // closed meanwhile
    this.connection.start();
  }

  /** Resolves when connected and caught up; rejects once the client is closed, signed out or failed. */
  ready(): Promise<void> {
    if (this.currentState === "ready") return Promise.resolve();
    if (this.isFinal()) return Promise.reject(TalowaError.unavailable(`The client is ${this.currentState}.`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Drops the connection (as a network loss would) and connects again at once, resuming as usual. */
  reconnect(): void {
    this.connection.reconnect();
  }

  /** Disconnects for good; unsent messages stay in storage for the next client. */
  async close(): Promise<void> {
    if (this.currentState === "closed") return;
    this.finish("closed", () => undefined);
    await this.inbox.flush();
  }

  get state(): ClientState {
    return this.currentState;
  }

  get uid(): string | undefined {
    return this.welcomePayload?.uid;
  }

  get welcome(): AuthSuccessPayload | undefined {
    return this.welcomePayload;
  }

  /** The gateway URL in use (or tried next). */
  get url(): string {
    return this.connection.url;
  }

  get stats(): ClientStats {
    return { ...this.inbox.stats, connects: this.connection.connects };
  }

  // --- messages ------------------------------------------------------------------------------

  /** Queues a message; resolves with its acknowledgement (retried with the same clientId until then). */
  send(input: SendInput): Promise<SendMessageResult> {
    const payload: SendMessagePayload = { ...input, clientId: input.clientId ?? newClientId(), type: input.type ?? "text" };
    if (payload.conversationId) this.typingSender.stop(payload.conversationId);
    return this.outbox.send(payload);
  }

  pendingSends(): OutboxEntry[] {
    return this.outbox.pending();
  }

  /**
   * A page of history for display (ascending seq, edit / delete events included as the server lists them).
   * It does not go through the `message` event; its messages join messages() (copies show edits and deletions).
   */
  async history(conversationId: string, page: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}) {
    const readAt = Date.now();
    const answer = await this.call<{ messages: ChatMessage[]; hasMore: boolean }>("fetch_history", { conversationId, ...page });
    for (const message of answer.messages) if (!isConversationEvent(message)) this.messageLog.add(message, readAt);
    return answer;
  }

  /**
   * The conversation's messages this client keeps (handed ones and history() pages, the newest
   * `messagesKept`), in seq order, as they are now: edits applied, deleted ones as tombstones, current
   * reactions. Edit / delete events themselves are not listed.
   */
  messages(conversationId: string): ChatMessage[] {
    return this.messageLog.list(conversationId);
  }

  message(conversationId: string, messageId: string): ChatMessage | undefined {
    return this.messageLog.get(conversationId, messageId);
  }

  /** A message's reactions as you see them (`me`: you reacted with it), also for messages this client does not keep. */
  reactionsOf(messageId: string) {
    return this.messageLog.reactionsOf(messageId);
  }

  /** The seq up to which this client handed every message of the conversation to the app. */
  cursor(conversationId: string): number | undefined {
    return this.inbox.cursorOf(conversationId);
  }

  /** Tells the senders you read the conversation up to `upToSeq` (default: everything received). */
  async markRead(conversationId: string, upToSeq = this.cursor(conversationId) ?? 0): Promise<number> {
    if (upToSeq <= this.unreadCounts.readSeqOf(conversationId)) return this.unreadCounts.readSeqOf(conversationId);
    this.unreadCounts.read(conversationId, upToSeq);
    const answer = await this.call<{ upToSeq: number }>("mark_read", { conversationId, upToSeq });
    this.unreadCounts.read(conversationId, answer.upToSeq);
    return answer.upToSeq;
  }

  /** Messages (and edit / delete events) from others above your read position (see the `unread` event). */
  unreadCount(conversationId: string): number {
    return this.unreadCounts.count(conversationId);
  }

  /** Your read position in the conversation, as far as this client knows (any device of yours). */
  readSeq(conversationId: string): number {
    return this.unreadCounts.readSeqOf(conversationId);
  }

  // --- receipts ------------------------------------------------------------------------------

  async getReceipts(conversationId: string): Promise<ReceiptState[]> {
    const { receipts } = await this.call<{ receipts: ReceiptState[] }>("get_receipts", { conversationId });
    this.receipts.apply(conversationId, receipts);
    const mine = receipts.find((r) => r.userId === this.uid);
    if (mine) this.unreadCounts.read(conversationId, mine.readSeq);
    return receipts;
  }

  /** How many other members have your message `seq` delivered and read. */
  receiptSummary(conversationId: string, seq: number): ReceiptSummary {
    return this.receipts.summary(conversationId, seq, this.others(conversationId));
  }

  /** sent / delivered (every other member has it) / read (every other member read it). */
  deliveryState(conversationId: string, seq: number): DeliveryState {
    return this.receipts.state(conversationId, seq, this.others(conversationId));
  }

  // --- typing --------------------------------------------------------------------------------

  /**
   * Call on every keystroke: sends typing_start at most every few seconds and typing_stop after a pause
   * (or when the message is sent). Never call it while composing an anonymous message: it names you.
   */
  typing(conversationId: string): void {
    this.typingSender.typing(conversationId);
  }

  stopTyping(conversationId: string): void {
    this.typingSender.stop(conversationId);
  }

  typingIn(conversationId: string): string[] {
    return this.typingWatcher.in(conversationId);
  }

  // --- presence ------------------------------------------------------------------------------

  presenceOf(userId: string): UserPresence | undefined {
    return this.presenceMap.get(userId);
  }

  async getPresence(userIds: string[]): Promise<UserPresence[]> {
    const { presence } = await this.call<{ presence: UserPresence[] }>("get_presence", { userIds });
    for (const p of presence) this.setPresence(p);
    return presence;
  }

  /** Follows users' presence (kept across reconnections); conversation partners are followed anyway. */
  async subscribePresence(userIds: string[]): Promise<UserPresence[]> {
    for (const id of userIds) this.followed.add(id);
    const { presence } = await this.call<{ presence: UserPresence[] }>("presence_subscribe", { userIds });
    for (const p of presence) this.setPresence(p);
    return presence;
  }

  async unsubscribePresence(userIds: string[]): Promise<void> {
    for (const id of userIds) this.followed.delete(id);
    await this.call("presence_unsubscribe", { userIds });
  }

  /** Your status, custom status, or the app going to the background / coming back. */
  async updatePresence(update: UpdatePresencePayload): Promise<UserPresence> {
    if (update.appState) this.appState = update.appState;
    const { presence } = await this.call<{ presence: UserPresence }>("update_presence", update);
    return presence;
  }

  // --- conversations and groups --------------------------------------------------------------

  get conversations(): ConversationSummary[] {
    return [...this.conversationMap.values()];
  }

  conversation(conversationId: string): ConversationSummary | undefined {
    return this.conversationMap.get(conversationId);
  }

  async createGroup(group: { name: string; memberIds: string[]; announcement?: boolean; postingRoles?: string[]; historyVisibility?: HistoryVisibility }) {
    const { conversation } = await this.call<{ conversation: ConversationSummary }>("create_group", group);
    this.setConversation(conversation);
    return conversation;
  }

  async addMembers(conversationId: string, memberIds: string[]) {
    const { conversation } = await this.call<{ conversation: ConversationSummary }>("add_members", { conversationId, memberIds });
    this.setConversation(conversation);
    return conversation;
  }

  async removeMembers(conversationId: string, memberIds: string[]) {
    const { conversation } = await this.call<{ conversation: ConversationSummary }>("remove_members", { conversationId, memberIds });
    if (memberIds.includes(this.uid ?? "")) this.removeConversation(conversationId);
    else this.setConversation(conversation);
    return conversation;
  }

  // --- consent and privacy (issue 12) --------------------------------------------------------

  /** Who sees your last seen and custom status; with no field, the current settings. */
  async setPresencePrivacy(change: Partial<PresencePrivacySettings> = {}): Promise<PresencePrivacySettings> {
    return (await this.call<{ privacy: PresencePrivacySettings }>("set_presence_privacy", change)).privacy;
  }

  /** Your pending group invitations, newest first. */
  async listInvitations(): Promise<GroupInvitation[]> {
    return (await this.call<{ invitations: GroupInvitation[] }>("list_invitations", {})).invitations;
  }

  async acceptInvitation(conversationId: string): Promise<ConversationSummary> {
    const { conversation } = await this.call<{ conversation: ConversationSummary }>("accept_invitation", { conversationId });
    this.setConversation(conversation);
    return conversation;
  }

  async declineInvitation(conversationId: string): Promise<void> {
    await this.call("decline_invitation", { conversationId });
  }

  // --- people --------------------------------------------------------------------------------

  /** The user with this email (to start a direct chat); rejects NOT_FOUND. */
  async findUser(email: string): Promise<UserProfile> {
    return (await this.call<{ user: UserProfile }>("find_user", { email })).user;
  }

  async getProfiles(userIds: string[]): Promise<UserProfile[]> {
    if (userIds.length === 0) return [];
    return (await this.call<{ profiles: UserProfile[] }>("get_profiles", { userIds })).profiles;
  }

  // --- blocking, active members, devices (server features of issues 14 and 15) ----------------

  /** The conversation's members connected now, with their presence. */
  async getActiveMembers(conversationId: string): Promise<UserPresence[]> {
    return (await this.call<{ members: UserPresence[] }>("get_active_members", { conversationId })).members;
  }

  async blockUser(userId: string): Promise<void> {
    await this.call("block_user", { userId });
  }

  async unblockUser(userId: string): Promise<void> {
    await this.call("unblock_user", { userId });
  }

  async listBlocked(): Promise<string[]> {
    return (await this.call<{ userIds: string[] }>("list_blocked", {})).userIds;
  }

  /** This device's FCM registration token, for pushes while the app has no connection. */
  async registerDevice(device: { token: string; platform: "android" | "ios" | "web"; appVersion?: string }): Promise<void> {
    await this.call("register_device", device);
  }

  async unregisterDevice(token: string): Promise<void> {
    await this.call("unregister_device", { token });
  }

  /** Silences pushes (never messages) of a conversation until `until` (ms); omitted: until unmuted; null: unmute. */
  async muteConversation(conversationId: string, until?: number | null) {
    return this.call<{ conversationId: string; muted: boolean; until: number | null }>("mute_conversation", { conversationId, ...(until !== undefined ? { until } : {}) });
  }

  // --- edits, deletions, reactions, the conversation list (issue 14) -----------------------------

  /**
   * Edits one's own text message (within the server's MESSAGE_EDIT_WINDOW). Members get an `edit` event;
   * every client folds it into its copy (message_edited, message_updated), this one from the ack. Refusals:
   * INVALID_ARGUMENT (not text, deleted, empty), PERMISSION_DENIED (not yours, window passed, a block),
   * NOT_FOUND, PAYLOAD_TOO_LARGE, RATE_LIMITED.
   */
  async editMessage(conversationId: string, messageId: string, content: string): Promise<ConversationEventResult> {
    const result = await this.call<ConversationEventResult>("edit_message", { conversationId, messageId, content });
    this.ownEvent("edit", result, content);
    return result;
  }

  /**
   * Deletes a message for everyone (its sender, or a group admin / moderator): a tombstone remains in its
   * place. INVALID_ARGUMENT when it was already deleted (after a retry: done), PERMISSION_DENIED, NOT_FOUND.
   */
  async deleteMessage(conversationId: string, messageId: string): Promise<ConversationEventResult> {
    const result = await this.call<ConversationEventResult>("delete_message", { conversationId, messageId });
    this.ownEvent("delete", result, "");
    return result;
  }

  /** Adds your reaction (`me` becomes true); INVALID_ARGUMENT (bad emoji, deleted message, too many values), NOT_FOUND, PERMISSION_DENIED. */
  async addReaction(conversationId: string, messageId: string, emoji: string): Promise<ReactionResult> {
    const result = await this.call<ReactionResult>("add_reaction", { conversationId, messageId, emoji });
    this.messageLog.ownReaction(conversationId, messageId, result.emoji, result.count, true);
    return result;
  }

  async removeReaction(conversationId: string, messageId: string, emoji: string): Promise<ReactionResult> {
    const result = await this.call<ReactionResult>("remove_reaction", { conversationId, messageId, emoji });
    this.messageLog.ownReaction(conversationId, messageId, result.emoji, result.count, false);
    return result;
  }

  /**
   * A page of the conversation list (newest activity first) with unread counts, last message and peer
   * presence. Its counts and read positions become this client's (`unread` events).
   */
  async listConversations(page: { limit?: number; before?: string } = {}): Promise<{ conversations: ConversationListItem[]; nextCursor: string | null }> {
    const answer = await this.call<{ conversations: ConversationListItem[]; nextCursor: string | null }>("list_conversations", { limit: page.limit ?? 20, ...(page.before ? { before: page.before } : {}) });
    for (const c of answer.conversations) this.unreadCounts.fromServer(c.id, c.unreadCount, c.readSeq);
    return answer;
  }

  // --- calls (issue 15: signaling only; media and TURN are the app's) -----------------------------

  /**
   * Rings a conversation's other members or `calleeIds`; resolves with `{ callId, state, calleeIds, busy }`
   * (`state: "ended"` when everyone was busy). PERMISSION_DENIED (no shared conversation, a block, you are
   * already in a call), NOT_FOUND (not a member), INVALID_ARGUMENT (yourself, too many callees, bad offer),
   * RATE_LIMITED, UNAVAILABLE (call signaling down).
   */
  async startCall(call: CallInitiatePayload): Promise<CallInitiateResult> {
    return this.callsState.start(call);
  }

  /** Answers a ringing call on this device; PERMISSION_DENIED when another device answered first, NOT_FOUND when it stopped ringing. */
  async answerCall(callId: string, sdpAnswer: string): Promise<void> {
    await this.callsState.answer(callId, sdpAnswer);
  }

  /** Stops the ringing on every device of yours; NOT_FOUND when it is not ringing for you. */
  async rejectCall(callId: string): Promise<void> {
    await this.callsState.reject(callId);
  }

  /** Cancels a call you placed, or hangs up (a ringing callee's endCall is a reject); NOT_FOUND when you are not a party. */
  async endCall(callId: string): Promise<void> {
    await this.callsState.hangUp(callId);
  }

  /**
   * An ICE candidate of this device (`RTCIceCandidate.toJSON()`). While the call still rings it is kept, and
   * sent in order once the call is answered (the gateway refuses candidates before that).
   */
  async sendIceCandidate(callId: string, candidate: IceCandidate): Promise<void> {
    await this.callsState.candidate(callId, candidate);
  }

  /** Calls of this device that are ringing or active. */
  get calls(): CallInfo[] {
    return this.callsState.current;
  }

  callInfo(callId: string): CallInfo | undefined {
    return this.callsState.get(callId);
  }

  // --- notification center (issue 15) ---------------------------------------------------------------

  /** A page (unread first, newest first); its entries and the unread count become `notifications`. INVALID_ARGUMENT for a `before` the server did not give. */
  async getNotifications(page: { limit?: number; before?: string } = {}): Promise<NotificationsPage> {
    const answer = await this.call<NotificationsPage>("get_notifications", page);
    this.notificationCenter.page(answer);
    return answer;
  }

  /** Marks one read (your other devices follow); resolves with the unread count. NOT_FOUND for an id that is not yours. */
  async markNotificationRead(id: string): Promise<number> {
    const { unreadCount } = await this.call<{ id: string; unreadCount: number }>("mark_notification_read", { id });
    this.notificationCenter.apply({ change: "read", id, unreadCount });
    return unreadCount;
  }

  /** Deletes one (on every device of yours); NOT_FOUND for an id that is not yours. */
  async clearNotification(id: string): Promise<number> {
    const { unreadCount } = await this.call<{ id: string; unreadCount: number }>("clear_notification", { id });
    this.notificationCenter.apply({ change: "cleared", id, unreadCount });
    return unreadCount;
  }

  /** Deletes every entry (on every device of yours); resolves with how many were cleared. */
  async clearAllNotifications(): Promise<number> {
    const { cleared } = await this.call<{ cleared: number; unreadCount: number }>("clear_all_notifications", {});
    this.notificationCenter.apply({ change: "cleared_all", id: null, unreadCount: 0 });
    return cleared;
  }

  /** The notification center's entries this device knows (listed or received), unread first, newest first. */
  get notifications(): NotificationItem[] {
    return this.notificationCenter.list;
  }

  /** The user's unread notifications (from auth_success, pages, acks and other devices' changes); undefined until known. */
  get unreadNotifications(): number | undefined {
    return this.notificationCenter.unreadCount;
  }

  /** The app showed a broadcast (when autoAckBroadcasts is off). */
  ackBroadcast(id: string): boolean {
    return this.emitIfAdmitted("ack_broadcast", { id });
  }

  /**
   * Any call with an ack once the client is ready (waits up to ackTimeoutMs for that); resolves with the
   * `{ ok: true }` body, rejects with TalowaError. For events this class has no helper for yet.
   */
  async call<T extends object = object>(event: string, payload: unknown): Promise<T> {
    await this.readyWithin(this.connection.ackTimeoutMs);
    return this.requester(this.connection.socket!)<T>(event, payload);
  }

  // --- inside --------------------------------------------------------------------------------

  private listen(socket: TalowaSocket): void {
    socket.on("new_message", (message) => {
      if (message.senderId) this.typingWatcher.end(message.conversationId, message.senderId);
      this.inbox.receive(message);
    });
    socket.on("message_delivery_status", (payload) => {
      this.receipts.receive(payload);
      this.emit("receipt", payload);
    });
    socket.on("typing", (payload) => this.typingWatcher.receive(payload));
    socket.on("conversation_updated", (conversation) => this.setConversation(conversation));
    socket.on("conversation_removed", ({ conversationId }) => this.removeConversation(conversationId));
    socket.on("presence_update", ({ timestamp: _, ...presence }) => this.setPresence(presence));
    socket.on("emergency_broadcast", (broadcast) => this.broadcast(broadcast));
    socket.on("group_invitation", (invitation) => this.emit("invitation", invitation));
    socket.on("reaction_updated", (update) => this.messageLog.reactionUpdated(update));
    socket.on("unread_changed", ({ conversationId, unreadCount, readSeq }) => this.unreadCounts.fromServer(conversationId, unreadCount, readSeq));
    socket.on("receipt_summary", (summary) => {
      this.receipts.receiveSummary(summary);
      this.emit("receipt_summary", summary);
    });
    socket.on("call_incoming", (call) => this.callsState.incoming(call));
    socket.on("call_answered", (answer) => this.callsState.answeredByPeer(answer));
    socket.on("call_ended", (ended) => this.callsState.endedByServer(ended));
    socket.on("call_ice_candidate", (candidate) => this.callsState.candidateFromPeer(candidate));
    socket.on("call_resumed", (resumed) => this.callsState.resumed(resumed));
    socket.on("notification_new", (notification) => this.notificationCenter.added(notification) && this.emit("notification", notification));
    socket.on("notifications_changed", (change) => {
      this.notificationCenter.apply(change);
      this.emit("notifications_changed", change);
    });
    socket.on("resync", () => this.welcomePayload && void this.resume(socket, this.welcomePayload));
  }

  /** After every admission (and on `resync`): conversations, catch-up, presence subscriptions; then ready. */
  private async resume(socket: TalowaSocket, welcome: AuthSuccessPayload): Promise<void> {
    const generation = ++this.resumeGeneration;
    const current = () => generation === this.resumeGeneration && socket === this.connection.socket;
    this.welcomePayload = welcome;
    this.admittedAt = Date.now();
    this.setState("resuming");
    const request = this.requester(socket);
    this.inbox.connectionOpened(request);
    try {
      const { conversations } = await patiently(() => request<{ conversations: ConversationSummary[] }>("list_conversations", {}));
      if (!current()) return;
      this.replaceConversations(conversations);
      await this.inbox.resume(conversations.map((c) => ({ id: c.id, lastSeq: lastSeqOf(c) })));
      await this.restoreSubscriptions(request);
    } catch (error) {
      if (current()) this.connection.reconnect(); // a live socket that cannot resume: start over
      return;
    }
    if (!current()) return;
    this.setState("ready");
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    this.emit("ready", welcome);
  }

  private async restoreSubscriptions(request: Requester): Promise<void> {
    const followed = [...this.followed];
    for (let i = 0; i < followed.length; i += SUBSCRIBE_CHUNK) {
      const { presence } = await request<{ presence: UserPresence[] }>("presence_subscribe", { userIds: followed.slice(i, i + SUBSCRIBE_CHUNK) });
      for (const p of presence) this.setPresence(p);
    }
    if (this.appState === "background") await request("update_presence", { appState: "background" });
  }

  private lost(reason: string): void {
    this.inbox.connectionClosed();
    this.typingWatcher.clear();
    this.callsState.connectionLost();
    if (this.isFinal()) return;
    this.setState("connecting");
    this.emit("disconnected", reason);
  }

  private requester(socket: TalowaSocket): Requester {
    const timeoutMs = this.connection.ackTimeoutMs;
    return async <T extends object>(event: string, payload: unknown): Promise<T> => {
      const loose = socket as unknown as { timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<Ack<T>> } };
      let answer: Ack<T>;
      try {
        answer = await loose.timeout(timeoutMs).emitWithAck(event, payload);
      } catch {
        throw TalowaError.unavailable(`${event}: no answer within ${timeoutMs} ms.`);
      }
      if (!answer.ok) throw new TalowaError(answer.error);
      return answer as T;
    };
  }

  private async readyWithin(timeoutMs: number): Promise<void> {
    if (this.currentState === "ready") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(TalowaError.unavailable(`Not connected (${this.currentState}); retry later.`)), timeoutMs);
    });
    try {
      await Promise.race([this.ready(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private emitIfAdmitted(event: string, payload: unknown): boolean {
    const socket = this.connection.socket;
    if (!socket?.connected || !this.connection.admitted) return false;
    (socket as unknown as { emit(event: string, payload: unknown): void }).emit(event, payload);
    return true;
  }

  /** Each message the inbox hands (seq order, once): folded into the kept messages and the unread count, then shown. */
  private handed(message: ChatMessage): void {
    this.messageLog.add(message, this.admittedAt);
    this.unreadCounts.handed(message.conversationId, message.seq, !this.isOwn(message));
    this.emit("message", message);
  }

  /** Your own edit / delete, from its ack: it takes its place in the conversation like your messages do. */
  private ownEvent(type: "edit" | "delete", result: ConversationEventResult, content: string): void {
    const target = this.messageLog.get(result.conversationId, result.targetId);
    const anonymous = !!target?.isAnonymous && this.ownIds.has(result.targetId);
    this.rememberOwn(result.eventId);
    this.inbox.receiveOwn({
      id: result.eventId,
      conversationId: result.conversationId,
      seq: result.seq,
      senderId: anonymous ? null : (this.uid ?? null),
      type,
      content,
      encryptionLevel: target?.encryptionLevel ?? "standard",
      isAnonymous: anonymous,
      clientId: "",
      clientTimestamp: null,
      createdAt: result.createdAt,
      metadata: {},
      targetId: result.targetId,
    });
  }

  private sent(entry: OutboxEntry, result: SendMessageResult): void {
    const p = entry.payload;
    this.rememberOwn(result.messageId);
    this.emit("sent", entry.clientId, result);
    this.inbox.receiveOwn({
      id: result.messageId,
      conversationId: result.conversationId,
      seq: result.seq,
      senderId: p.isAnonymous ? null : (this.uid ?? null),
      type: p.type,
      content: p.content,
      encryptionLevel: p.encryptionLevel ?? "standard",
      isAnonymous: p.isAnonymous ?? false,
      clientId: p.clientId,
      clientTimestamp: p.timestamp ?? null,
      createdAt: result.createdAt,
      metadata: p.metadata ?? {},
    }, p.replyToId !== undefined);
  }

  private isOwn(message: ChatMessage): boolean {
    return (!!message.senderId && message.senderId === this.uid) || this.ownIds.has(message.id);
  }

  private rememberOwn(id: string): void {
    if (this.ownIds.size >= 5_000) this.ownIds.delete(this.ownIds.values().next().value as string);
    this.ownIds.add(id);
  }

  private others(conversationId: string): string[] {
    return (this.conversationMap.get(conversationId)?.members ?? []).filter((m) => m !== this.uid);
  }

  private setConversation(conversation: ConversationSummary): void {
    this.conversationMap.set(conversation.id, conversation);
    this.emit("conversations", this.conversations);
  }

  private replaceConversations(conversations: ConversationSummary[]): void {
    this.conversationMap.clear();
    for (const c of conversations) this.conversationMap.set(c.id, c);
    this.emit("conversations", this.conversations);
  }

  private removeConversation(conversationId: string): void {
    if (!this.conversationMap.delete(conversationId)) return;
    this.inbox.forget(conversationId);
    this.messageLog.forget(conversationId);
    this.unreadCounts.forget(conversationId);
    this.emit("conversations", this.conversations);
  }

  private setPresence(presence: UserPresence): void {
    this.presenceMap.set(presence.userId, presence);
    this.emit("presence", presence);
  }

  private broadcast(broadcast: EmergencyBroadcastPayload): void {
    if (this.shownBroadcasts.includes(broadcast.id)) return;
    this.shownBroadcasts = [...this.shownBroadcasts, broadcast.id].slice(-BROADCASTS_KEPT);
    void this.storage.set("broadcasts", this.shownBroadcasts);
    this.emit("emergency", broadcast);
    if (this.autoAckBroadcasts) this.emitIfAdmitted("ack_broadcast", { id: broadcast.id });
  }

  private setState(state: ClientState): void {
    if (this.currentState === state || this.isFinal()) return;
    this.currentState = state;
    this.emit("state", state);
  }

  private isFinal(): boolean {
    return this.currentState === "signed-out" || this.currentState === "failed" || this.currentState === "closed";
  }

  private finish(state: "signed-out" | "failed" | "closed", announce: () => void): void {
    if (this.isFinal()) return;
    this.setState(state);
    this.currentState = state;
    this.connection.stop();
    this.outbox.close();
    this.inbox.close();
    this.typingSender.close();
    this.callsState.close();
    const error = TalowaError.unavailable(`The client is ${state}.`);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(error);
    announce();
  }
}

/** RATE_LIMITED answers wait their retryAfterMs and try again (reconnect storms pass the budgets). */
async function patiently<T>(run: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof TalowaError) || error.code !== "RATE_LIMITED" || attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? 1_000));
    }
  }
}

function isConversationEvent(message: ChatMessage): boolean {
  return message.type === "edit" || message.type === "delete";
}

/** The newest seq of a conversation, when the server's list carries it (issue 14's `lastMessage`). */
function lastSeqOf(conversation: ConversationSummary): number | undefined {
  const seq = (conversation as { lastMessage?: { seq?: unknown } }).lastMessage?.seq;
  return typeof seq === "number" ? seq : undefined;
}

export function newClientId(): string {
  const crypto = globalThis.crypto as { randomUUID?: () => string } | undefined;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * The wire protocol, declared once and shared by the server, the tests and any TypeScript client.
 * Documented for Flutter and web clients in docs/PROTOCOL.md.
 */
import type { ErrorBody } from "./errors";

export const PROTOCOL_VERSION = 1;

/** Answer of every client → server call that can fail, through a Socket.IO acknowledgement. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckCallback<T extends object = object> = (response: Ack<T>) => void;

export interface AuthSuccessPayload {
  uid: string;
  roles: string[];
  instanceId: string;
  heartbeatIntervalMs: number;
  presenceTtlMs: number;
  serverTime: number;
  protocolVersion: number;
}

export interface ServerShutdownPayload {
  reason: "shutdown" | "stopped";
  reconnectAfterMs: number;
}

// --- messaging ---------------------------------------------------------------------------------

export const MESSAGE_TYPES = ["text", "image", "document", "voice", "emergency"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
/** Sequenced conversation events that reference another message (issue 14): never sent with send_message. */
export const CONVERSATION_EVENT_TYPES = ["edit", "delete"] as const;
export type ConversationEventType = (typeof CONVERSATION_EVENT_TYPES)[number];
export type EncryptionLevel = "standard" | "high";
export type DeliveryState = "sent" | "delivered" | "read";

/** `send_message`: exactly one of `conversationId` (existing conversation) or `recipientId` (direct). */
export interface SendMessagePayload {
  /** The client's own id for this message; a resend with the same clientId is the same message. */
  clientId: string;
  type: MessageType;
  /** Text, a media URL/reference, or ciphertext (base64) when encryptionLevel is "high". */
  content: string;
  conversationId?: string;
  recipientId?: string;
  encryptionLevel?: EncryptionLevel;
  isAnonymous?: boolean;
  /** Client clock, ms since epoch; informative only (order comes from `seq`). */
  timestamp?: number;
  metadata?: Record<string, unknown>;
}

export interface SendMessageResult {
  messageId: string;
  conversationId: string;
  seq: number;
  status: "sent";
  createdAt: number;
  /** true when this was a resend of an already stored clientId. */
  duplicate: boolean;
}

/** A stored message as recipients see it (`new_message`, history, offline queue). */
export interface ChatMessage {
  id: string;
  conversationId: string;
  seq: number;
  /** null for anonymous messages. */
  senderId: string | null;
  /** A message type, or a conversation event (`edit`, `delete`, issue 14) whose `targetId` names its message. */
  type: MessageType | ConversationEventType;
  content: string;
  encryptionLevel: EncryptionLevel;
  isAnonymous: boolean;
  clientId: string;
  clientTimestamp: number | null;
  createdAt: number;
  metadata: Record<string, unknown>;
}

export interface DeliveryStatusPayload {
  conversationId: string;
  /** The member whose devices received or read the messages. */
  userId: string;
  status: Exclude<DeliveryState, "sent">;
  /** Every message of the conversation with seq <= upToSeq is in this state for this member. */
  upToSeq: number;
  messageIds: string[];
  timestamp: number;
}

export interface TypingPayload {
  conversationId: string;
  userId: string;
  isTyping: boolean;
  /** The indicator disappears by itself after this long without a refresh. */
  expiresInMs: number;
}

export interface ConversationSummary {
  id: string;
  type: "direct" | "group";
  name: string | null;
  members: string[];
  admins: string[];
  announcement: boolean;
  postingRoles: string[];
  createdBy: string;
  createdAt: number;
}

export interface ReceiptState {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
}

// --- control ---------------------------------------------------------------------------------

export const BROADCAST_PRIORITIES = ["normal", "high", "critical"] as const;
export type BroadcastPriority = (typeof BROADCAST_PRIORITIES)[number];

/** `emergency_broadcast`: live to every connected client, replayed on connect to those who missed it. */
export interface EmergencyBroadcastPayload {
  id: string;
  title: string;
  body: string;
  priority: BroadcastPriority;
  senderId: string;
  /** ms since epoch; clients keep the ids they showed, since a replay may repeat one. */
  createdAt: number;
  /** Who it is for; absent means everyone. Answer it with `ack_broadcast { id }` once shown. */
  target?: BroadcastTarget;
  /** Control plane → gateways only (a resend): deliver to these users' sockets alone. Never sent to clients. */
  resendTo?: string[];
}

/** An emergency broadcast's audience: everyone, the members of a group, or the users with a role. */
export type BroadcastTarget = { everyone: true } | { groupId: string } | { role: string };

export interface ServerToClientEvents {
  auth_success: (payload: AuthSuccessPayload) => void;
  server_shutdown: (payload: ServerShutdownPayload) => void;
  error: (error: ErrorBody) => void;
  new_message: (message: ChatMessage) => void;
  message_delivery_status: (payload: DeliveryStatusPayload) => void;
  typing: (payload: TypingPayload) => void;
  conversation_updated: (conversation: ConversationSummary) => void;
  conversation_removed: (payload: { conversationId: string }) => void;
  /** Live delivery between instances was interrupted (Redis outage): catch up every conversation from the last seq you have. */
  resync: (payload: { reason: "redis-recovered" }) => void;
  // --- control ---
  emergency_broadcast: (payload: EmergencyBroadcastPayload) => void;
  // --- session lifetime (issue 11) ---
  /** The ID token expires at `expiresAt` (ms): answer `refresh_token` with a fresh one before then. */
  token_expiring: (payload: { expiresAt: number }) => void;
  /** The session is over (expired, disabled, revoked, kicked); the socket is disconnected right after. */
  session_ended: (payload: { reason: SessionEndReason; message: string }) => void;
}

export type SessionEndReason = "TOKEN_EXPIRED" | "TOKEN_REVOKED" | "TOKEN_INVALID" | "USER_DISABLED" | "USER_NOT_FOUND" | "IDLE_TIMEOUT" | "CALL_FLOOD";

export interface ClientToServerEvents {
  heartbeat: (ack?: AckCallback<{ serverTime: number }>) => void;
  send_message: (payload: SendMessagePayload, ack: AckCallback<SendMessageResult>) => void;
  mark_delivered: (payload: { conversationId: string; upToSeq: number }, ack?: AckCallback<{ upToSeq: number }>) => void;
  mark_read: (payload: { conversationId: string; upToSeq: number }, ack?: AckCallback<{ upToSeq: number }>) => void;
  fetch_history: (
    payload: { conversationId: string; beforeSeq?: number; afterSeq?: number; limit?: number },
    ack: AckCallback<{ messages: ChatMessage[]; hasMore: boolean }>,
  ) => void;
  /** `anonymous: true` is refused (INVALID_ARGUMENT): never send typing while composing anonymously. */
  typing_start: (payload: { conversationId: string; anonymous?: boolean }, ack?: AckCallback) => void;
  typing_stop: (payload: { conversationId: string }, ack?: AckCallback) => void;
  /** `invited`: members whose consent policy turned the add into an invitation (issue 12). */
  create_group: (
    payload: { name: string; memberIds: string[]; announcement?: boolean; postingRoles?: string[]; historyVisibility?: HistoryVisibility },
    ack: AckCallback<{ conversation: ConversationSummary; invited: string[] }>,
  ) => void;
  add_members: (payload: { conversationId: string; memberIds: string[] }, ack: AckCallback<{ conversation: ConversationSummary; invited: string[] }>) => void;
  remove_members: (payload: { conversationId: string; memberIds: string[] }, ack: AckCallback<{ conversation: ConversationSummary }>) => void;
  /**
   * Issue 14: with `limit` (and `before`), a page by last activity (newest first) with unread counts, last
   * message and the direct peer's presence; with neither, every conversation as summaries only (resume).
   */
  list_conversations: (
    payload: { limit?: number; before?: string },
    ack: AckCallback<{ conversations: ConversationListItem[] | ConversationSummary[]; nextCursor: string | null }>,
  ) => void;
  /** With `messageId` (issue 14), also who has that message delivered and read. */
  get_receipts: (
    payload: { conversationId: string; messageId?: string },
    ack: AckCallback<{ receipts: ReceiptState[]; deliveredTo?: string[]; readBy?: string[] }>,
  ) => void;
  /** A fresh ID token of the same user (after `token_expiring`); PERMISSION_DENIED and disconnect for another uid. */
  refresh_token: (payload: { token: string }, ack?: AckCallback<{ expiresAt: number | null }>) => void;
}

export interface InterServerEvents {
  ping: () => void;
  /** A conversation's members or settings changed: drop cached copies. */
  conversation_changed: (conversationId: string) => void;
}

/** What the gateway keeps on each admitted socket (`socket.data`). */
export interface SocketData {
  uid: string;
  roles: string[];
  connectedAt: number;
  /** ms since epoch: the ID token's `exp` and `auth_time` (session lifetime). */
  expiresAt?: number;
  authTime?: number;
  /** Loaded by features' `prepare` before the socket connects (e.g. the offline queue). */
  prepared?: Record<string, unknown>;
}

// --- presence ----------------------------------------------------------------------------------
// Declared as interface merges so this block stays apart from the other features' entries.

export const PRESENCE_STATUSES = ["online", "away", "busy", "offline"] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];
/** What a client may choose; `offline` only ever follows from having no live connection. */
export const CHOSEN_PRESENCE_STATUSES = ["online", "away", "busy"] as const;
export type ChosenPresenceStatus = (typeof CHOSEN_PRESENCE_STATUSES)[number];

/** One user's presence as others see it. */
export interface UserPresence {
  userId: string;
  status: PresenceStatus;
  customStatus?: string;
  /** When the user was last connected (ms); present when offline and known. */
  lastSeen?: number;
}

/** `presence_update`: a contact or a followed user changed status or custom status. */
export interface PresenceUpdatePayload extends UserPresence {
  timestamp: number;
}

/** `update_presence`: every field optional; `customStatus: null` or `""` clears it. */
export interface UpdatePresencePayload {
  status?: ChosenPresenceStatus;
  customStatus?: string | null;
  /** The app went to the background (this connection stops counting as active) or came back. */
  appState?: "foreground" | "background";
}

export interface ServerToClientEvents {
  presence_update: (payload: PresenceUpdatePayload) => void;
}

export interface ClientToServerEvents {
  update_presence: (payload: UpdatePresencePayload, ack?: AckCallback<{ presence: UserPresence }>) => void;
  get_presence: (payload: { userIds: string[] }, ack: AckCallback<{ presence: UserPresence[] }>) => void;
  presence_subscribe: (payload: { userIds: string[] }, ack?: AckCallback<{ presence: UserPresence[] }>) => void;
  presence_unsubscribe: (payload: { userIds: string[] }, ack?: AckCallback) => void;
  /** Who sees your last seen and custom status (issue 12); no field: answers the current settings. */
  set_presence_privacy: (payload: Partial<PresencePrivacySettings>, ack: AckCallback<{ privacy: PresencePrivacySettings }>) => void;
}

/** `everyone` who may see your presence (people you share a conversation with), `contacts` (people you share a direct conversation with), `nobody`. */
export type PresenceAudience = "everyone" | "contacts" | "nobody";
export interface PresencePrivacySettings {
  lastSeen: PresenceAudience;
  customStatus: PresenceAudience;
}

// --- reach: devices and push ------------------------------------------------------------------

export interface ClientToServerEvents {
  /** Registers this device's FCM registration token for pushes while the app has no socket. */
  register_device: (payload: { token: string; platform: "android" | "ios" | "web"; appVersion?: string }, ack?: AckCallback) => void;
  unregister_device: (payload: { token: string }, ack?: AckCallback) => void;
  /** Silences pushes (never messages) of a conversation until `until` (ms); absent: until unmuted; null: unmute. */
  mute_conversation: (
    payload: { conversationId: string; until?: number | null },
    ack?: AckCallback<{ conversationId: string; muted: boolean; until: number | null }>,
  ) => void;
}

// --- reach: emergency broadcast receipts ------------------------------------------------------

export interface ClientToServerEvents {
  /** A device showed an emergency broadcast; the first ack of any device of the user counts. */
  ack_broadcast: (payload: { id: string }, ack?: AckCallback<{ id: string }>) => void;
}

// --- conversation features (issue 14) ----------------------------------------------------------
// Replies, active members, blocking. Interface merges, so this block stays apart from the other features' entries.

/** What a reply shows of the message it answers (`replyTo` of a message). */
export interface ReplyRef {
  id: string;
  /** null when the original was anonymous. */
  senderId: string | null;
  type: MessageType;
  /** The first 100 characters of the original's content; null for encryptionLevel "high" or a deleted original. */
  preview: string | null;
  /** The original was deleted (issue 14): show "deleted message". */
  deleted?: true;
}

export interface ChatMessage {
  /** Present when the message answers another one of the same conversation. */
  replyTo?: ReplyRef;
}

export interface SendMessagePayload {
  /** A message of the same conversation this one answers. */
  replyToId?: string;
}

export interface ClientToServerEvents {
  get_active_members: (payload: { conversationId: string }, ack: AckCallback<{ members: UserPresence[] }>) => void;
  block_user: (payload: { userId: string }, ack: AckCallback<{ userId: string; blocked: true }>) => void;
  unblock_user: (payload: { userId: string }, ack: AckCallback<{ userId: string; blocked: false }>) => void;
  list_blocked: (payload: Record<string, never>, ack: AckCallback<{ userIds: string[] }>) => void;
}

export interface InterServerEvents {
  /** A block between two users changed: drop cached block lists. */
  blocks_changed: (blocker: string, blocked: string) => void;
}

// --- user lookup (directory) --------------------------------------------------------------------

/** What any signed-in user may learn about another: the uid and the display name, never the email or claims. */
export interface UserProfile {
  uid: string;
  displayName: string | null;
}

export interface ClientToServerEvents {
  /** The account with this exact email (case-insensitive), to start a direct chat; NOT_FOUND otherwise. Rate-limited. */
  find_user: (payload: { email: string }, ack: AckCallback<{ user: UserProfile }>) => void;
  /** Display names of up to 100 users (unknown ones are left out). Rate-limited. */
  get_profiles: (payload: { userIds: string[] }, ack: AckCallback<{ profiles: UserProfile[] }>) => void;
}

// --- reach: call signaling (WebRTC, relay only; media and TURN are out of scope) ----------------

export type CallMedia = "audio" | "video";
/** Why `call_ended` came: the call is over for this device (ringing stops, media should stop). */
export type CallEndedReason = "answered_elsewhere" | "rejected" | "ended" | "cancelled" | "missed" | "busy" | "disconnected";

/** An ICE candidate as `RTCIceCandidate.toJSON()` gives it. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface CallIncomingPayload {
  callId: string;
  callerId: string;
  conversationId: string | null;
  media: CallMedia;
  sdpOffer: string;
  /** Everyone rung by this call (a group call rings several; the first to answer takes it). */
  calleeIds: string[];
}

export interface CallInitiatePayload {
  /** Exactly one of: a conversation you are a member of (its other members are rung) or users to ring. */
  conversationId?: string;
  calleeIds?: string[];
  media: CallMedia;
  sdpOffer: string;
}

export interface CallInitiateResult {
  callId: string;
  /** "ringing", or "ended" when every callee was busy (a `call_ended { reason: "busy" }` follows). */
  state: "ringing" | "ended";
  /** Callees rung. */
  calleeIds: string[];
  /** Callees not rung because they are in another call. */
  busy: string[];
}

export interface ServerToClientEvents {
  /** Someone calls you: ring (every device of yours gets it). Answer with call_answer or call_reject. */
  call_incoming: (payload: CallIncomingPayload) => void;
  /** To the caller's device: a callee answered on one of their devices. */
  call_answered: (payload: { callId: string; by: string; sdpAnswer: string }) => void;
  /** The call is over for this device. `by`: who ended, rejected or answered it, when someone did. */
  call_ended: (payload: { callId: string; reason: CallEndedReason; by: string | null }) => void;
  /** An ICE candidate of the other party's device (only the two party devices exchange them). */
  call_ice_candidate: (payload: { callId: string; from: string; candidate: IceCandidate }) => void;
  /** This new connection took the place of your device that dropped out of a call (within the grace period). */
  call_resumed: (payload: { callId: string; callerId: string; peerId: string | null; media: CallMedia; state: "ringing" | "active" }) => void;
}

export interface ClientToServerEvents {
  call_initiate: (payload: CallInitiatePayload, ack: AckCallback<CallInitiateResult>) => void;
  call_answer: (payload: { callId: string; sdpAnswer: string }, ack?: AckCallback<{ callId: string }>) => void;
  call_reject: (payload: { callId: string }, ack?: AckCallback<{ callId: string }>) => void;
  call_end: (payload: { callId: string }, ack?: AckCallback<{ callId: string }>) => void;
  call_ice_candidate: (payload: { callId: string; candidate: IceCandidate }, ack?: AckCallback<{ callId: string }>) => void;
}

// --- reach: notification center -----------------------------------------------------------------

export const NOTIFICATION_KINDS = ["mention", "added_to_group", "missed_call", "emergency_broadcast"] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** One entry of a user's notification center. `data` says what to open (conversationId, messageId, callId, broadcastId ...). */
export interface NotificationsChangedPayload {
  change: "read" | "cleared" | "cleared_all";
  /** The notification read or cleared; null for cleared_all. */
  id: string | null;
  unreadCount: number;
}

export interface NotificationItem {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  data: Record<string, string>;
  createdAt: number;
  read: boolean;
  readAt: number | null;
}

export interface AuthSuccessPayload {
  /** Unread entries of the notification center (absent when the store did not answer in time). */
  unreadNotifications?: number;
}

export interface SendMessagePayload {
  /** Members of the conversation this message mentions (at most 50; non-members and the sender are dropped). */
  mentions?: string[];
}

export interface ChatMessage {
  /** The members the message mentions (present only when it mentions someone). */
  mentions?: string[];
}

export interface ServerToClientEvents {
  /** A new entry of your notification center (every device of yours gets it). */
  notification_new: (notification: NotificationItem) => void;
  /** Another device of yours read, cleared one or cleared all notifications. */
  notifications_changed: (payload: NotificationsChangedPayload) => void;
}

export interface ClientToServerEvents {
  /** Unread first, then read; newest first. `before`: the `nextBefore` of the previous page. */
  get_notifications: (
    payload: { limit?: number; before?: string },
    ack: AckCallback<{ notifications: NotificationItem[]; unreadCount: number; nextBefore: string | null; hasMore: boolean }>,
  ) => void;
  mark_notification_read: (payload: { id: string }, ack?: AckCallback<{ id: string; unreadCount: number }>) => void;
  clear_notification: (payload: { id: string }, ack?: AckCallback<{ id: string; unreadCount: number }>) => void;
  clear_all_notifications: (payload: Record<string, never>, ack?: AckCallback<{ cleared: number; unreadCount: number }>) => void;
}

// --- edits and deletions (issue 14) ---------------------------------------------------------------

export interface ChatMessage {
  /** On `edit` / `delete` events: the message of the same conversation they change. */
  targetId?: string;
  /** On an edited message: when it was last edited (ms). */
  editedAt?: number;
  /** On a deleted message (a tombstone: `content` is "", metadata and replyTo are gone). */
  deleted?: true;
  deletedAt?: number;
}

/** Ack of `edit_message` / `delete_message`: the event message that carries the change. */
export interface ConversationEventResult {
  /** The event message's id and seq (it reaches members as `new_message` of type `edit` / `delete`). */
  eventId: string;
  conversationId: string;
  seq: number;
  targetId: string;
  createdAt: number;
}

export interface ClientToServerEvents {
  /** The sender edits its own text message within MESSAGE_EDIT_WINDOW seconds. */
  edit_message: (payload: { conversationId: string; messageId: string; content: string }, ack: AckCallback<ConversationEventResult>) => void;
  /** The sender (or a group admin / moderator) deletes a message for everyone: a tombstone remains. */
  delete_message: (payload: { conversationId: string; messageId: string }, ack: AckCallback<ConversationEventResult>) => void;
}

// --- reactions (issue 14) ------------------------------------------------------------------------

/** One reaction value on a message as a reader sees it. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  /** The reader itself reacted with this value. */
  me: boolean;
}

export interface ChatMessage {
  /** Current reactions (history and offline-queue copies); absent when there are none. */
  reactions?: ReactionSummary[];
}

/** `reaction_updated`: someone added or removed a reaction; `count` is the new total for that value. */
export interface ReactionUpdatedPayload {
  conversationId: string;
  messageId: string;
  emoji: string;
  count: number;
  userId: string;
  added: boolean;
}

export interface ReactionResult {
  conversationId: string;
  messageId: string;
  emoji: string;
  count: number;
  /** false when nothing changed (adding a reaction one has, removing one one has not). */
  changed: boolean;
}

export interface ServerToClientEvents {
  reaction_updated: (payload: ReactionUpdatedPayload) => void;
}

export interface ClientToServerEvents {
  add_reaction: (payload: { conversationId: string; messageId: string; emoji: string }, ack?: AckCallback<ReactionResult>) => void;
  remove_reaction: (payload: { conversationId: string; messageId: string; emoji: string }, ack?: AckCallback<ReactionResult>) => void;
}

// --- conversation list and unread counts (issue 14) -----------------------------------------------

/** What the conversation list shows of a conversation's newest message. */
export interface LastMessagePreview {
  id: string;
  /** First 100 characters; null for encryptionLevel "high" and deleted messages. */
  preview: string | null;
  /** null when anonymous. */
  senderId: string | null;
  seq: number;
  createdAt: number;
  type: MessageType;
  deleted?: true;
}

/** One conversation of `list_conversations`. */
export interface ConversationListItem extends ConversationSummary {
  /** Messages (and edit/delete events) from others above the caller's readSeq. */
  unreadCount: number;
  readSeq: number;
  lastMessage: LastMessagePreview | null;
  /** ms: the newest message's time (the conversation's creation when it has none); the list's order. */
  lastActivityAt: number;
  /** Direct conversations: the other member's presence (offline without lastSeen if it blocked you). */
  peer?: { userId: string; isOnline: boolean; status: PresenceStatus; lastSeen: number | null };
}

/** Sent to every device of a user when its unread count of a conversation changed by reading (mark_read on any device). */
export interface UnreadChangedPayload {
  conversationId: string;
  unreadCount: number;
  readSeq: number;
}

export interface ServerToClientEvents {
  unread_changed: (payload: UnreadChangedPayload) => void;
}

// --- "read by N of M" (issue 14) ---------------------------------------------------------------------

/** To the sender of a group message: how many of the other members have it delivered and read. */
export interface ReceiptSummaryPayload {
  conversationId: string;
  messageId: string;
  seq: number;
  delivered: number;
  read: number;
  /** The other members (the M of "read by N of M"). */
  members: number;
}

export interface ServerToClientEvents {
  receipt_summary: (payload: ReceiptSummaryPayload) => void;
}

// --- consent (issue 12) -------------------------------------------------------------------------

/** Members added later read history from their join (`joined`, the default) or all of it (`all`). */
export type HistoryVisibility = "joined" | "all";

/** An add to a group that the invitee's consent policy turned into an invitation. */
export interface GroupInvitation {
  conversationId: string;
  uid: string;
  name: string | null;
  invitedBy: string;
  invitedAt: number;
}

export interface ServerToClientEvents {
  /** Someone who may not add you directly invited you to a group: accept_invitation or decline_invitation. */
  group_invitation: (invitation: GroupInvitation) => void;
}

export interface ClientToServerEvents {
  list_invitations: (payload: Record<string, never>, ack: AckCallback<{ invitations: GroupInvitation[] }>) => void;
  accept_invitation: (payload: { conversationId: string }, ack: AckCallback<{ conversation: ConversationSummary }>) => void;
  decline_invitation: (payload: { conversationId: string }, ack: AckCallback) => void;
}

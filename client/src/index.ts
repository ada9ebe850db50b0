/**
 * @talowa/client: the TALOWA messaging gateway from a browser or Node, with the protocol's rules built in
 * (docs/PROTOCOL.md): reconnect with a fresh token, resume without loss, dedupe, ordered delivery,
 * batched receipts, an outbox with safe retries, presence, typing, groups, emergency broadcasts; edits,
 * deletions, reactions and unread counts folded into its state; call signaling; the notification center.
 */
export { TalowaClient, newClientId } from "./client.js";
export type { ClientState, ClientStats, SendInput, TalowaClientEvents, TalowaClientOptions } from "./client.js";
export type { CallInfo } from "./calls.js";
export type { GetToken, TalowaSocket } from "./connection.js";
export { TalowaError } from "./errors.js";
export type { InitialSync, InboxStats } from "./inbox.js";
export type { MessageDeletion, MessageEdit, ReactionsChange } from "./messages.js";
export type { NotificationsPage } from "./notifications.js";
export type { OutboxEntry } from "./outbox.js";
export type { DeliveryState, ReceiptSummary } from "./receipts.js";
export { IndexedDbStorage, MemoryStorage } from "./storage.js";
export type { ClientStorage } from "./storage.js";
export type { TypingOptions } from "./typing.js";
export * from "./generated/protocol.js";
export { AuthFailureReasons, ErrorCodes } from "./generated/errors.js";
export type { AuthFailureReason, ErrorBody, ErrorCode } from "./generated/errors.js";

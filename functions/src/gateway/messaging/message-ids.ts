import { createHash, createHmac } from "node:crypto";
import { GatewayError } from "../../errors";
import type { ChatMessage } from "../../protocol";

/**
 * Message ids and what an anonymous message may carry (issue 11; docs/DATA-MODEL.md "Anonymous messages").
 *
 * The same (sender, clientId) always names the same message, so a retry on any instance cannot store it
 * twice. The id is an HMAC keyed with a server secret (MESSAGE_ID_SECRET, else CONTROL_SECRET): without
 * the key, a member who knows a clientId cannot hash each member's uid with it to find the sender.
 */
export function messageIdFor(uid: string, clientId: string, key: string): string {
  const input = `${uid}\u0000${clientId}`;
  const digest = key ? createHmac("sha256", key).update(input) : createHash("sha256").update(input);
  return `m_${digest.digest("base64url").slice(0, 27)}`;
}

/** The key of message ids: MESSAGE_ID_SECRET, else CONTROL_SECRET; "" when neither is configured. */
export function messageIdKey(config: { messageIdSecret: string; controlSecret: string }): string {
  return config.messageIdSecret || config.controlSecret;
}

/**
 * An anonymous message needs a keyed id (without a secret the id names its sender) and carries nothing
 * chosen by its sender but its content: metadata is refused (its keys and sizes differ by client).
 */
export function checkAnonymous(payload: { isAnonymous: boolean; metadata?: Record<string, unknown> }, key: string): void {
  if (!payload.isAnonymous) return;
  if (!key) throw new GatewayError("UNAVAILABLE", "Anonymous messages are off on this server: it has no MESSAGE_ID_SECRET (or CONTROL_SECRET) to key message ids with.");
  if (payload.metadata && Object.keys(payload.metadata).length > 0) throw new GatewayError("INVALID_ARGUMENT", "metadata: not allowed on anonymous messages (it could tell the sender).");
}

/**
 * What every copy of a message holds (live, history, offline queue, the Firestore document members can
 * read). An anonymous copy has no clientId, no client timestamp and no metadata: those differ by sender.
 * The sender's devices know their clientId already and match the ack's messageId.
 */
export function sharedCopy(message: ChatMessage): ChatMessage {
  if (!message.isAnonymous) return message;
  return { ...message, senderId: null, clientId: "", clientTimestamp: null, metadata: {} };
}

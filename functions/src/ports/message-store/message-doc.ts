import { createHash } from "node:crypto";
import type { StoredMessage } from "./message-store";

/**
 * How a message is laid out in its Firestore document, and back (docs/DATA-MODEL.md): storage-only fields
 * that the Node emulator's limits call for (flat reaction counts, a top-level `replyToId`), never sent.
 */

/** Reaction counts live in top-level fields (the Node emulator cannot increment nested ones): count and value per key. */
export const COUNT_PREFIX = "reaction_";
export const VALUE_PREFIX = "reactionValue_";

/** A reaction value's field key: any emoji, no dots or reserved characters in a field name. */
export function reactionKey(emoji: string): string {
  return createHash("sha256").update(emoji).digest("base64url").slice(0, 16);
}

/** The reaction counts held in a message document's flat fields, by value (zero counts left out). */
export function countsOf(data: FirebaseFirestore.DocumentData): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [field, value] of Object.entries(data)) {
    if (!field.startsWith(COUNT_PREFIX) || typeof value !== "number" || value <= 0) continue;
    const emoji = data[`${VALUE_PREFIX}${field.slice(COUNT_PREFIX.length)}`];
    if (typeof emoji === "string") counts[emoji] = value;
  }
  return counts;
}

/** A message as its document holds it: reaction counts flattened, replies with their top-level `replyToId`. */
export function toDoc(message: StoredMessage): FirebaseFirestore.DocumentData {
  const { reactionCounts, ...rest } = message;
  const doc: FirebaseFirestore.DocumentData = message.replyTo ? { ...rest, [REPLY_TO_ID]: message.replyTo.id } : rest;
  for (const [emoji, count] of Object.entries(reactionCounts ?? {})) {
    doc[`${COUNT_PREFIX}${reactionKey(emoji)}`] = count;
    doc[`${VALUE_PREFIX}${reactionKey(emoji)}`] = emoji;
  }
  return doc;
}

/**
 * A reply's document also holds the replied-to id at the top level (the Node emulator cannot filter on
 * `replyTo.id`), so replies can be found when their original is edited or deleted. Storage only.
 */
export const REPLY_TO_ID = "replyToId";

/** A message document as the store answers it (also for other readers of `messages`, e.g. the HTTP API's index). */
export function toMessage(data: FirebaseFirestore.DocumentData): StoredMessage {
  const message: FirebaseFirestore.DocumentData = {};
  let reacted = false;
  for (const [field, value] of Object.entries(data)) {
    if (field.startsWith(COUNT_PREFIX) || field.startsWith(VALUE_PREFIX)) reacted = true;
    else if (field !== REPLY_TO_ID) message[field] = value;
  }
  if (reacted) {
    const counts = countsOf(data);
    if (Object.keys(counts).length > 0) message.reactionCounts = counts;
  }
  return message as StoredMessage;
}


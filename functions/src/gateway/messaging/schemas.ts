import { z } from "zod";
import { MESSAGE_TYPES } from "../../protocol";
import { idSchema as id, seqSchema as seq } from "../payloads";

export const sendMessageSchema = z
  .object({
    clientId: id,
    type: z.enum(MESSAGE_TYPES),
    content: z.string().min(1, "must not be empty"),
    conversationId: id.optional(),
    recipientId: id.optional(),
    encryptionLevel: z.enum(["standard", "high"]).default("standard"),
    isAnonymous: z.boolean().default(false),
    timestamp: z.number().finite().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    replyToId: id.optional(),
    /** Issue 15: members mentioned (non-members and the sender are dropped by the sending feature). */
    mentions: z.array(id).max(50).optional(),
  })
  .refine((p) => (p.conversationId === undefined) !== (p.recipientId === undefined), {
    message: "exactly one of conversationId or recipientId is required",
    path: ["conversationId"],
  });

export const receiptSchema = z.object({ conversationId: id, upToSeq: seq });

export const historySchema = z
  .object({ conversationId: id, beforeSeq: seq.optional(), afterSeq: seq.optional(), limit: z.number().int().positive().optional() })
  .refine((p) => p.beforeSeq === undefined || p.afterSeq === undefined, { message: "give beforeSeq or afterSeq, not both", path: ["afterSeq"] });

export const conversationRefSchema = z.object({ conversationId: id });

/** `anonymous: true` is accepted only to be refused: typing while composing anonymously would name the typist. */
export const typingStartSchema = z.object({ conversationId: id, anonymous: z.boolean().optional() });

/** Group sizes are bounded by `maxGroupMembers` in the handler (the frame size bounds the array first). */
export const createGroupSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    memberIds: z.array(id),
    announcement: z.boolean().default(false),
    postingRoles: z.array(z.string().min(1).max(64)).max(20).default([]),
    historyVisibility: z.enum(["joined", "all"]).default("joined"),
  });

export const membersChangeSchema = z.object({ conversationId: id, memberIds: z.array(id).min(1) });

/** Issue 14: a message of a conversation (reactions, edits, deletions, active members). */
export const messageRefSchema = z.object({ conversationId: id, messageId: id });

/** Issue 14: `edit_message` (the size of `content` is bounded by MAX_CONTENT_BYTES in the handler). */
export const editMessageSchema = z.object({ conversationId: id, messageId: id, content: z.string().min(1, "must not be empty") });

/** Longest reaction value: 32 UTF-16 units and 16 grapheme clusters (an emoji with modifiers is one). */
export const MAX_REACTION_CHARS = 32;
export const MAX_REACTION_GRAPHEMES = 16;
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Issue 14: `add_reaction` / `remove_reaction`; no control characters, no Firestore-reserved `__x__` names. */
export const reactionSchema = z.object({
  conversationId: id,
  messageId: id,
  emoji: z
    .string()
    .min(1, "must not be empty")
    .max(MAX_REACTION_CHARS, `at most ${MAX_REACTION_CHARS} characters`)
    .refine((e) => e.trim().length > 0, "must not be blank")
    .refine((e) => !/[\u0000-\u001f\u007f]/.test(e), "no control characters")
    .refine((e) => !/^__.*__$/.test(e), "reserved name")
    .refine((e) => [...graphemes.segment(e)].length <= MAX_REACTION_GRAPHEMES, `at most ${MAX_REACTION_GRAPHEMES} characters`),
});

/** Issue 14: `list_conversations` (the cursor is the `nextCursor` of the previous page). */
export const listConversationsSchema = z
  .object({ limit: z.number().int().positive().optional(), before: z.string().max(300).regex(/^\d+:[A-Za-z0-9_.:@-]+$/, "not a cursor").optional() })
  .optional();

/** `get_receipts`; `messageId` (issue 14) also asks who has that message. */
export const getReceiptsSchema = z.object({ conversationId: id, messageId: id.optional() });

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

import { z } from "zod";
import { GatewayError } from "../../errors";
import { MESSAGE_TYPES } from "../../protocol";

const id = z.string().trim().min(1).max(128).regex(/^[A-Za-z0-9_.:@-]+$/, "letters, digits and _ . : @ - only");
const seq = z.number().int().min(0);

export const sendMessageSchema = z
  .object({
    id: z.string().optional(),
    clientId: id,
    type: z.enum(MESSAGE_TYPES),
    content: z.string().min(1, "must not be empty"),
    conversationId: id.optional(),
    recipientId: id.optional(),
    encryptionLevel: z.enum(["standard", "high"]).default("standard"),
    isAnonymous: z.boolean().default(false),
    timestamp: z.number().finite().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((p) => (p.conversationId === undefined) !== (p.recipientId === undefined), {
    message: "exactly one of conversationId or recipientId is required",
    path: ["conversationId"],
  });

export const receiptSchema = z.object({ conversationId: id, upToSeq: seq }).strict();

export const historySchema = z
  .object({ conversationId: id, beforeSeq: seq.optional(), afterSeq: seq.optional(), limit: z.number().int().positive().optional() })
  .strict()
  .refine((p) => p.beforeSeq === undefined || p.afterSeq === undefined, { message: "give beforeSeq or afterSeq, not both", path: ["afterSeq"] });

export const conversationRefSchema = z.object({ conversationId: id }).strict();

export const createGroupSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    memberIds: z.array(id).max(10_000),
    announcement: z.boolean().default(false),
    postingRoles: z.array(z.string().min(1).max(64)).max(20).default([]),
  })
  .strict();

export const membersChangeSchema = z.object({ conversationId: id, memberIds: z.array(id).min(1).max(10_000) }).strict();

export const emptySchema = z.object({}).strict().optional();

/** Parses a payload or throws INVALID_ARGUMENT naming the first bad field. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join(".") || "payload";
  throw new GatewayError("INVALID_ARGUMENT", `${field}: ${issue.message}`);
}

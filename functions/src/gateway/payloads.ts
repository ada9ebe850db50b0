import { z } from "zod";
import { GatewayError } from "../errors";

/** Ids of conversations, users and clients: what Firestore document ids and Redis keys can hold safely. */
export const idSchema = z.string().trim().min(1).max(128).regex(/^[A-Za-z0-9_.:@-]+$/, "letters, digits and _ . : @ - only");
export const seqSchema = z.number().int().min(0);

/** A payload that carries nothing. */
export const emptySchema = z.object({}).optional();

/** Parses a payload or throws INVALID_ARGUMENT naming the first bad field. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join(".") || "payload";
  throw new GatewayError("INVALID_ARGUMENT", `${field}: ${issue.message}`);
}

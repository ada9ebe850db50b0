import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { GatewayError } from "../errors";
import { BROADCAST_PRIORITIES, EmergencyBroadcastPayload } from "../protocol";

/**
 * The credential of the gateway's control routes (`/stats`, `POST /stop`, `POST /broadcast`) and of the
 * fleet channel: the shared `CONTROL_SECRET`. Never the source address: behind a same-host proxy every
 * request comes from 127.0.0.1. See docs/SECURITY.md.
 */
export const CONTROL_HEADER = "x-talowa-control-secret";

/** Largest control body in bytes; read while streaming, the request is destroyed past it. */
export const MAX_CONTROL_BODY_BYTES = 16 * 1024;

/** Constant-time comparison of a presented secret with the configured one. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 403 when no secret is configured (routes off), 401 when the request does not present it. */
export function controlRefusal(req: IncomingMessage, secret: string): { status: number; error: GatewayError } | undefined {
  if (!secret) return { status: 403, error: new GatewayError("PERMISSION_DENIED", "Control routes are off: set CONTROL_SECRET on the gateway and the control plane.") };
  const given = req.headers[CONTROL_HEADER];
  if (typeof given !== "string" || !sameSecret(given, secret)) return { status: 401, error: new GatewayError("UNAUTHENTICATED", `Control routes need the ${CONTROL_HEADER} header.`) };
  return undefined;
}

/** The public body of `POST /emergency-broadcast` (control-handler.ts parses the same schema). */
/** Who an emergency broadcast is for (issue 15): everyone (default), a group's members, or a role. */
export const broadcastTargetSchema = z.union([
  z.object({ everyone: z.literal(true) }).strict(),
  z.object({ groupId: z.string().min(1).max(128) }).strict(),
  z.object({ role: z.string().min(1).max(64) }).strict(),
]);

export const broadcastBodySchema = z
  .object({
    title: z.string().trim().min(1).max(120),
    body: z.string().trim().min(1).max(2_000),
    priority: z.enum(BROADCAST_PRIORITIES).default("critical"),
    target: broadcastTargetSchema.optional(),
  })
  .strict();

/** How far a relayed broadcast's `createdAt` may be from the gateway's clock (a forged 9e15 would stop replays). */
export const BROADCAST_CLOCK_SKEW_MS = 5 * 60_000;

/** A stored broadcast relayed by the control plane: the public body plus what the control plane set. */
export function parseRelayedBroadcast(value: unknown, now: number): EmergencyBroadcastPayload {
  const schema = broadcastBodySchema.extend({
    id: z.string().min(1).max(128),
    senderId: z.string().min(1).max(128),
    createdAt: z.number().int().refine((t) => Math.abs(t - now) <= BROADCAST_CLOCK_SKEW_MS, "must be the server's time"),
    /** A resend (issue 15) goes only to these recipients. */
    resendTo: z.array(z.string().min(1).max(128)).max(5_000).optional(),
  });
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    throw new GatewayError("INVALID_ARGUMENT", `Invalid broadcast: ${problems.join("; ")}.`);
  }
  return result.data as EmergencyBroadcastPayload;
}

/** The body of the loopback `POST /sessions/end { uid }` (admin kick relayed by the control plane). */
export function parseUid(value: unknown): string {
  const result = z.object({ uid: z.string().min(1).max(128) }).strict().safeParse(value);
  if (!result.success) throw new GatewayError("INVALID_ARGUMENT", "expected { uid }");
  return result.data.uid;
}

/** Reads a JSON body of at most `limit` bytes; past it the request is destroyed (PAYLOAD_TOO_LARGE). */
export function readCappedJson(req: IncomingMessage, limit = MAX_CONTROL_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) return reject(new GatewayError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.pause();
        return reject(new GatewayError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`));
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new GatewayError("INVALID_ARGUMENT", "The body must be JSON."));
      }
    });
    req.on("error", reject);
  });
}

// --- fleet channel: signed commands -------------------------------------------------------------

/** A fleet command on the wire: the command JSON, when it was signed, and an HMAC-SHA256 over both. */
export interface SignedEnvelope {
  payload: string;
  ts: number;
  sig: string;
}

export function signEnvelope(payload: string, secret: string, now: number): string {
  const sig = createHmac("sha256", secret).update(`${now}.${payload}`).digest("base64url");
  return JSON.stringify({ payload, ts: now, sig } satisfies SignedEnvelope);
}

/** The command's JSON text when the envelope is well signed and recent; undefined otherwise. */
export function openEnvelope(message: string, secret: string, now: number, windowMs: number): string | undefined {
  if (!secret) return undefined;
  let envelope: Partial<SignedEnvelope>;
  try {
    envelope = JSON.parse(message) as Partial<SignedEnvelope>;
  } catch {
    return undefined;
  }
  if (typeof envelope.payload !== "string" || typeof envelope.ts !== "number" || typeof envelope.sig !== "string") return undefined;
  if (Math.abs(now - envelope.ts) > windowMs) return undefined;
  const expected = createHmac("sha256", secret).update(`${envelope.ts}.${envelope.payload}`).digest("base64url");
  return sameSecret(envelope.sig, expected) ? envelope.payload : undefined;
}

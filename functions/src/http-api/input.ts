import { z } from "zod";
import { GatewayError } from "../errors";
import { DAY_MS } from "../ports/activity-log";

/** Validates with zod; the first problem becomes INVALID_ARGUMENT naming the field. Unknown fields are ignored. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new GatewayError("INVALID_ARGUMENT", `${what}: ${issue.path.join(".") || "value"}: ${issue.message}`);
}

/** A query parameter given once, as a string (repeated parameters are refused). */
export function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new GatewayError("INVALID_ARGUMENT", `${name}: give it once, as a string.`);
  return value;
}

export function queryLimit(query: Record<string, unknown>, fallback: number, max: number): number {
  const raw = queryString(query, "limit");
  if (raw === undefined) return Math.min(fallback, max);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new GatewayError("INVALID_ARGUMENT", `limit: a whole number from 1 to ${max}, got "${raw}".`);
  return n;
}

export function queryInt(query: Record<string, unknown>, name: string, min: number): number | undefined {
  const raw = queryString(query, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new GatewayError("INVALID_ARGUMENT", `${name}: a whole number of at least ${min}, got "${raw}".`);
  return n;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date parameter: `YYYY-MM-DD` (a UTC day), an ISO 8601 time, or ms since epoch. A day given as the
 * end of a range includes the whole day.
 */
export function queryTime(query: Record<string, unknown>, name: string, end: boolean): number | undefined {
  const raw = queryString(query, name);
  if (raw === undefined) return undefined;
  let ms: number;
  if (/^\d{1,16}$/.test(raw)) ms = Number(raw);
  else if (DATE_ONLY.test(raw)) ms = Date.parse(`${raw}T00:00:00.000Z`) + (end ? DAY_MS : 0);
  else ms = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms) || (DATE_ONLY.test(raw) && new Date(ms - (end ? DAY_MS : 0)).toISOString().slice(0, 10) !== raw)) {
    throw new GatewayError("INVALID_ARGUMENT", `${name}: expected YYYY-MM-DD, an ISO 8601 time or ms since epoch, got "${raw}".`);
  }
  return ms;
}

/** [from, to) for analytics: defaults to the `defaultDays` before `now`, at most `maxDays` long. */
export function queryRange(query: Record<string, unknown>, now: number, defaultDays: number, maxDays: number): { from: number; to: number } {
  const to = queryTime(query, "endDate", true) ?? now;
  const from = queryTime(query, "startDate", false) ?? to - defaultDays * DAY_MS;
  if (from >= to) throw new GatewayError("INVALID_ARGUMENT", "startDate must be before endDate.");
  if (to - from > maxDays * DAY_MS) throw new GatewayError("INVALID_ARGUMENT", `The range is at most ${maxDays} days.`);
  return { from, to };
}

const cursorSchema = z.object({ b: z.number().int(), s: z.array(z.string().max(1_500)).max(1_000) });

/** Cursors are opaque to clients: base64url JSON of the last value returned and the ids tied on it. */
export function encodeCursor(cursor: { before: number; skip: string[] } | undefined): string | null {
  return cursor ? Buffer.from(JSON.stringify({ b: cursor.before, s: cursor.skip })).toString("base64url") : null;
}

export function decodeCursor(query: Record<string, unknown>): { before: number; skip: string[] } | undefined {
  const raw = queryString(query, "cursor");
  if (raw === undefined) return undefined;
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    return { before: parsed.b, skip: parsed.s };
  } catch {
    throw new GatewayError("INVALID_ARGUMENT", "cursor: not a cursor this API returned.");
  }
}

export const userIdSchema = z.string().min(1).max(128);

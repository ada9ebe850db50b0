import { GatewayError } from "../errors";
import type { ApiDeps } from "./types";

/** How long a client should wait before retrying after a backend outage. */
export const RETRY_AFTER_OUTAGE_MS = 5_000;

/** gRPC codes of a Firestore that is away or overloaded, as opposed to a request it refuses. */
const TRANSIENT_FIRESTORE_CODES = new Set([4, 8, 10, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE

/** A Firestore (or Auth) call bounded by `httpBackendTimeoutMs`: a slow or unreachable backend is 503, never a hang. */
export function firestoreCall<T>(deps: ApiDeps, work: Promise<T>, what: string): Promise<T> {
  return bounded(deps, work, what, (error) => {
    const code = (error as { code?: unknown }).code;
    return typeof code !== "number" || TRANSIENT_FIRESTORE_CODES.has(code);
  });
}

/** A Redis call, bounded the same way; every Redis failure is an outage. */
export function redisCall<T>(deps: ApiDeps, work: Promise<T>, what: string): Promise<T> {
  return bounded(deps, work, what, () => true);
}

function bounded<T>(deps: ApiDeps, work: Promise<T>, what: string, transient: (error: unknown) => boolean): Promise<T> {
  const ms = deps.config.httpBackendTimeoutMs;
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`${what} did not answer within ${ms} ms`)), ms);
  });
  const guarded = work.catch((error: unknown) => {
    if (error instanceof GatewayError) throw error;
    if (!transient(error)) throw error;
    deps.logger.warn("api: backend failed", { what, error: String(error) });
    throw unavailable(`${what} is unavailable`);
  });
  return Promise.race([guarded, timeout]).finally(() => clearTimeout(timer));
}

export function unavailable(detail: string): GatewayError {
  return new GatewayError("UNAVAILABLE", `${detail}; retry later.`, { retryAfterMs: RETRY_AFTER_OUTAGE_MS });
}

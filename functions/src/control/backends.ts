import type { Firestore } from "firebase-admin/firestore";
import type Redis from "ioredis";
import { withTimeout as bounded } from "../util/with-timeout";

export const OFFLINE_QUEUE = "offline_queue";

/** What `/status` checks besides the gateway itself. */
export interface BackendProbes {
  redis(): Promise<{ configured: boolean; reachable: boolean; latencyMs?: number; error?: string }>;
  firestore(): Promise<{ reachable: boolean; latencyMs?: number; error?: string }>;
  /** Undelivered entries of the offline queue; null when Firestore does not answer. */
  offlineQueueDepth(): Promise<number | null>;
}

export function createBackendProbes(deps: { redis?: Redis; db: Firestore; timeoutMs?: number }): BackendProbes {
  const timeoutMs = deps.timeoutMs ?? 3_000;
  return {
    async redis() {
      if (!deps.redis) return { configured: false, reachable: false };
      return { configured: true, ...(await timed(() => deps.redis!.ping(), timeoutMs)) };
    },
    firestore: () => timed(() => deps.db.collection(OFFLINE_QUEUE).limit(1).get(), timeoutMs),
    async offlineQueueDepth() {
      try {
        const query = deps.db.collection(OFFLINE_QUEUE).where("delivered", "==", false).count();
        return (await withTimeout(query.get(), timeoutMs)).data().count;
      } catch {
        return null;
      }
    },
  };
}

async function timed(run: () => Promise<unknown>, timeoutMs: number) {
  const started = Date.now();
  try {
    await withTimeout(run(), timeoutMs);
    return { reachable: true, latencyMs: Date.now() - started };
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return bounded(promise, ms, () => new Error(`no answer within ${ms} ms`));
}

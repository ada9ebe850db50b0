import type Redis from "ioredis";
import { FallbackOptions, FallbackPresenceStore } from "./presence-store-facade";
import { MemoryPresenceStore } from "./memory-presence-store";
import type { PresenceStore } from "./presence-store";

export type { PresenceStore } from "./presence-store";

/** Redis presence with the in-memory fallback when a Redis connection is given; memory alone otherwise. */
export function createPresenceStore(redis: Redis | undefined, options: FallbackOptions): PresenceStore {
  const local = new MemoryPresenceStore(() => options.clock.now());
  return redis ? new FallbackPresenceStore(redis, local, options) : local;
}

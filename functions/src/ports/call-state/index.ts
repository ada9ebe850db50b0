import type Redis from "ioredis";
import { MemoryCallState } from "./memory-call-state";
import { RedisCallState } from "./redis-call-state";
import type { CallStatePort } from "./call-state";

export * from "./call-state";
export { MemoryCallState } from "./memory-call-state";
export { RedisCallState } from "./redis-call-state";

/**
 * The call state the gateway uses: Redis when configured (calls between users on different instances need
 * one shared state machine), this process's memory otherwise. No fallback from Redis to memory: two
 * instances deciding a call's state apart would ring, answer and end it twice; while Redis is away call
 * signaling answers UNAVAILABLE (the feature maps the failure).
 */
export function createCallState(redis?: Redis): CallStatePort {
  return redis ? new RedisCallState(redis) : new MemoryCallState();
}

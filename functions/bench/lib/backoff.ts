/**
 * How a real app reconnects, for the load generator's reconnect storm: the client library's backoff
 * (client/src/connection.ts `nextDelay`): exponential from `minMs`, doubled after each failed attempt up
 * to `maxMs`, with equal jitter (half fixed, half random), and never sooner than the `retryAfterMs` the
 * gateway gave with its refusal (plus up to `minMs` of jitter, so refused clients do not come back in step).
 */
export interface Backoff {
  minMs: number;
  maxMs: number;
}

export const CLIENT_BACKOFF: Backoff = { minMs: 250, maxMs: 15_000 };

export function reconnectDelay(failures: number, retryAfterMs: number | undefined, backoff: Backoff = CLIENT_BACKOFF, random: () => number = Math.random): number {
  const exponential = Math.min(backoff.maxMs, backoff.minMs * 2 ** failures);
  const jittered = exponential / 2 + (random() * exponential) / 2;
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, retryAfterMs + random() * backoff.minMs);
}

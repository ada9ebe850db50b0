export interface RateDecision {
  allowed: boolean;
  /** When not allowed: how long until the window frees a slot. */
  retryAfterMs: number;
  remaining: number;
}

/** The rate limiter port: at most `limit` calls per `windowMs` for a key (fixed window). */
export interface RateLimiter {
  consume(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /** Spends `key`'s budget for `ms` whatever its limit: every `consume` of it is refused until then (a penalty). */
  block(key: string, ms: number): Promise<void>;
}

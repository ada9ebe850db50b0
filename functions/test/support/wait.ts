/**
 * Waiting in tests, two ways only: `eventually` polls until something observable holds (the only poll
 * loop in the suite), and `settle` is the one deliberate pause, for checking that nothing more arrives
 * or nothing changes.
 */

export interface EventuallyOptions<T> {
  /** Keep polling until this accepts the value (besides until `check` stops throwing). */
  accept?: (value: T) => boolean;
  /** What is awaited, for the timeout message. */
  what?: string;
  timeoutMs?: number;
  everyMs?: number;
}

/**
 * Calls `check` until it returns without throwing (chai assertions inside it) and `accept`, if given,
 * takes the value; resolves with that value. After `timeoutMs` it fails with the last error, or with
 * the last value `accept` refused.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions<T> = {}): Promise<T> {
  const { accept = () => true, what = "a condition", timeoutMs = 5_000, everyMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (accept(value)) return value;
      failure = new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) throw failure;
    await pause(everyMs);
  }
}

/** Resolves with `list` once it holds at least `count` items (lists filled by `collect` and the like). */
export function arrived<T>(list: T[], count: number, timeoutMs = 5_000): Promise<T[]> {
  return eventually(() => list, { accept: (l) => l.length >= count, what: `${count} items`, timeoutMs });
}

/**
 * The one deliberate pause: time for in-flight events to arrive so that the assertions after it can say
 * nothing more came or nothing changed, or for server-side work no client can observe (a subscription
 * reaching Redis). Not for waiting on something observable: use `eventually` or `arrived` for that.
 */
export function settle(ms = 300): Promise<void> {
  return pause(ms);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

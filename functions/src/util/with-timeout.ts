/**
 * Rejects with `onTimeout()` after `ms` unless `promise` settles first; the timer never outlives the race.
 * The one timeout helper of the codebase: store calls, Redis fallbacks and probes all bound their waits with it.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import type { Conversation, MessageStore } from "./message-store";

/**
 * The same store, where concurrent `conversationsOf(uid)` calls for one user share one query: at
 * admission the offline queue (group rooms) and presence (contacts) both need the user's conversations,
 * and now cost one Firestore query together. Nothing is cached past the query's answer.
 */
const SHARE_WINDOW_MS = 50;

export function coalesceConversationsOf(store: MessageStore): MessageStore {
  const inFlight = new Map<string, Promise<Conversation[]>>();
  const forget = (uid: string, query: Promise<Conversation[]>) => {
    if (inFlight.get(uid) === query) inFlight.delete(uid);
  };
  const conversationsOf = (uid: string): Promise<Conversation[]> => {
    let query = inFlight.get(uid);
    if (!query) {
      const started = store.conversationsOf(uid);
      query = started;
      inFlight.set(uid, started);
      started.then(() => forget(uid, started), () => forget(uid, started));
      // Shared only by calls made together (one admission's features): a later call, e.g. a reconnect
      // after a query that hangs, asks the store again rather than waiting on the old query.
      setTimeout(() => forget(uid, started), SHARE_WINDOW_MS).unref();
    }
    return query;
  };
  // Bound once per method (by identity: a store that hands out other functions over time still works).
  const bound = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property) {
      if (property === "conversationsOf") return conversationsOf;
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      if (!bound.has(value)) bound.set(value, (value as (...args: unknown[]) => unknown).bind(target));
      return bound.get(value);
    },
  });
}

import type { Conversation, MessageStore } from "./message-store";

/**
 * The same store, where concurrent `conversationsOf(uid)` calls for one user share one query: at
 * admission the offline queue (group rooms) and presence (contacts) both need the user's conversations,
 * and now cost one Firestore query together. Nothing is cached past the query's answer.
 */
export function coalesceConversationsOf(store: MessageStore, shareForMs: number): MessageStore {
  const inFlight = new Map<string, { query: Promise<Conversation[]>; startedAt: number }>();
  const conversationsOf = (uid: string): Promise<Conversation[]> => {
    const shared = inFlight.get(uid);
    // A query that hangs past the store timeout is not handed to later callers: they ask again.
    if (shared && Date.now() - shared.startedAt < shareForMs) return shared.query;
    const entry = { query: store.conversationsOf(uid), startedAt: Date.now() };
    entry.query.then(forget, forget);
    function forget() {
      if (inFlight.get(uid) === entry) inFlight.delete(uid);
    }
    inFlight.set(uid, entry);
    return entry.query;
  };
  // Keyed by the function itself, not the property: a store that hands out another function later (a test
  // double failing once) must be called through that one.
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

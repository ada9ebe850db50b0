import type { Conversation, MessageStore } from "./message-store";

/**
 * The same store, where concurrent `conversationsOf(uid)` calls for one user share one query: at
 * admission the offline queue (group rooms) and presence (contacts) both need the user's conversations,
 * and now cost one Firestore query together. Nothing is cached past the query's answer.
 */
export function coalesceConversationsOf(store: MessageStore): MessageStore {
  const inFlight = new Map<string, Promise<Conversation[]>>();
  const conversationsOf = (uid: string): Promise<Conversation[]> => {
    let query = inFlight.get(uid);
    if (!query) {
      query = store.conversationsOf(uid).finally(() => inFlight.delete(uid));
      inFlight.set(uid, query);
    }
    return query;
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      if (property === "conversationsOf") return conversationsOf;
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      if (!bound.has(property)) bound.set(property, (value as (...args: unknown[]) => unknown).bind(target));
      return bound.get(property);
    },
  });
}

import type { MessageStore } from "../../src/ports/message-store";

/**
 * Wraps the real message store so `conversationsOf` of chosen users hangs (Firestore too slow to answer)
 * or fails, until they are released. Every other call goes to the real store.
 */
export function slowConversations() {
  const stalled = new Map<string, "hang" | "fail">();
  const wrap = (real: MessageStore): MessageStore =>
    new Proxy(real, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== "conversationsOf") return typeof value === "function" ? value.bind(target) : value;
        return (uid: string) => {
          const mode = stalled.get(uid);
          if (mode === "hang") return new Promise(() => undefined);
          if (mode === "fail") return Promise.reject(new Error("deadline exceeded (simulated slow Firestore)"));
          return target.conversationsOf(uid);
        };
      },
    });
  return { wrap, stall: (uid: string, mode: "hang" | "fail" = "hang") => stalled.set(uid, mode), release: (uid: string) => stalled.delete(uid) };
}

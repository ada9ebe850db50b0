/** Seeded malformed events, shared by test/fuzz.test.ts and `npm run abuse` (bench/abuse.ts). */

/** Every client → server event of the protocol (functions/src/protocol.ts ClientToServerEvents). */
export const CLIENT_EVENTS = [
  "send_message", "mark_delivered", "mark_read", "typing_start", "typing_stop", "create_group", "add_members", "remove_members",
  "list_conversations", "fetch_history", "get_receipts", "refresh_token", "heartbeat", "update_presence", "get_presence",
  "presence_subscribe", "presence_unsubscribe", "set_presence_privacy", "register_device", "unregister_device", "ack_broadcast",
  "get_active_members", "block_user", "unblock_user", "list_blocked", "find_user", "get_profiles",
];
/** Names socket.io-client refuses to emit (they are its own). */
const RESERVED_BY_CLIENT = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
const FIELDS = ["conversationId", "recipientId", "userIds", "memberIds", "content", "type", "clientId", "upToSeq", "beforeSeq", "afterSeq", "limit", "status", "customStatus", "appState", "token", "metadata", "name", "announcement", "userId", "messageId", "lastSeen", "platform", "broadcastId", "email", "isAnonymous", "replyToId"];
const JUNK_KEYS = ["__name__", "__key__", "__proto__", "constructor", "prototype", "toString", "", " ", "a.b", "$where", "k".repeat(1_600), "🙂", "\u0000"];
const JUNK_EVENTS = ["bogus", "__proto__", "constructor", "toString", "hasOwnProperty", "", "x".repeat(300), "send_message ", "SEND_MESSAGE", "🙂", "error", "ping", "message"];

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random malformed payloads: deep nesting, huge strings (within the frame cap), wrong types, reserved keys, arrays, null, numbers. */
export function junkGenerator(random: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const int = (max: number) => Math.floor(random() * max);
  const scalar = (): unknown =>
    pick([
      () => null,
      () => int(2) === 0,
      () => int(1e9) - 5e8,
      () => pick([NaN, Infinity, -0, Number.MAX_SAFE_INTEGER + 2, 1e308, -1, 0]),
      () => "x".repeat(int(64)),
      () => pick(["", " ", "text", "group", "online", "busy", "android", "\u0000", "'; DROP TABLE", "../../etc", "🙂".repeat(50)]),
      () => (int(100) === 0 ? "y".repeat(100_000 + int(100_000)) : "z".repeat(int(2_000))),
    ])();
  const value = (depth: number): unknown => {
    const roll = int(10);
    if (depth > 4 || roll < 5) return scalar();
    if (roll < 7) return Array.from({ length: int(8) }, () => value(depth + 1));
    return object(depth + 1);
  };
  const object = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = int(6); i > 0; i -= 1) out[int(4) === 0 ? pick(JUNK_KEYS) : pick(FIELDS)] = value(depth);
    return out;
  };
  const deep = (levels: number): unknown => {
    let v: unknown = int(2) ? { leaf: 1 } : [1];
    for (let i = 0; i < levels; i += 1) v = int(2) ? { [pick(FIELDS)]: v } : [v];
    return v;
  };
  const payload = (): unknown =>
    pick([
      () => object(0),
      () => object(0),
      () => scalar(),
      () => Array.from({ length: int(20) }, () => value(1)),
      () => deep(10 + int(1_500)), // deeper than socket.io-client can encode (its recursion overflows near 3,000) never leaves the client
      () => ({ [pick(FIELDS)]: Array.from({ length: int(3_000) }, () => int(2) ? "u" : int(1e6)) }),
      () => ({ userIds: Array.from({ length: int(600) }, (_, i) => `nobody-${i}`) }),
      () => undefined,
    ])();
  const event = (): string => {
    if (int(10) < 7) return pick(CLIENT_EVENTS);
    const name = int(2) ? pick(JUNK_EVENTS) : Math.random().toString(36).slice(2, 2 + int(30));
    return RESERVED_BY_CLIENT.has(name) ? "bogus" : name;
  };
  return { event, payload, args: () => (int(10) === 0 ? [payload(), payload()] : [payload()]) };
}

import { z } from "zod";

/**
 * Every setting of the gateway, with its default. A host (standalone process, Cloud Function, test)
 * starts from these, overrides what its environment gives, and validates the result once at start.
 */
export const defaultConfig = {
  /** TCP port the gateway listens on; 0 picks a free one (tests). */
  port: 8081,
  /** Interface to bind; loopback by default, `0.0.0.0` in containers. */
  host: "127.0.0.1",
  /** Socket.IO path clients connect to. */
  path: "/socket.io",
  /** Allowed CORS origins for the polling transport and the handshake; `["*"]` allows any origin. */
  corsOrigins: ["*"] as string[],
  /** Transports offered to clients. Websocket-only avoids sticky sessions behind a load balancer. */
  transports: ["websocket", "polling"] as Array<"websocket" | "polling">,
  /** Largest accepted client frame in bytes (Socket.IO `maxHttpBufferSize`); larger frames close the socket. */
  maxHttpBufferSize: 1_000_000,
  /** How often clients should send a presence heartbeat; told to them in `auth_success`. */
  heartbeatIntervalMs: 15_000,
  /** A connection without a heartbeat for this long counts as gone; told to clients in `auth_success`. */
  presenceTtlMs: 45_000,
  /** Socket.IO transport ping interval and timeout (dead transport detection). */
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  /** Ask Firebase Auth whether the token was revoked or the user disabled (one lookup per connection). */
  checkRevoked: true,
  /** Firebase project id; tokens issued for any other project are refused. Empty: from the environment. */
  projectId: "",
  /** Redis URL for presence, rate limits and cross-instance fan-out; empty runs without Redis (in memory). */
  redisUrl: "",
  /**
   * Socket.IO Redis adapter between instances. `sharded` (Redis 7 sharded pub/sub, one channel per room,
   * subscriptionMode "dynamic"): an instance receives only the traffic of rooms it holds. `classic`
   * (one pattern subscription): every instance receives every broadcast; kept only to measure the
   * difference (`npm run scale -- --adapter classic`, see docs/SCALING.md).
   */
  adapter: "sharded" as "sharded" | "classic",
  /** Where messages are stored: `firestore` in every real deployment, `memory` for single-process runs and benchmarks. */
  messageStore: "firestore" as "firestore" | "memory",
  /** Graceful shutdown: how long clients get to leave before the remaining sockets are closed. */
  shutdownTimeoutMs: 10_000,
  /** Clients told to reconnect after a shutdown wait about this long before trying again. */
  reconnectAfterMs: 2_000,
  /** Name of this gateway instance in logs and status reports; empty derives one from host and pid. */
  instanceId: "",

  /** A client whose unsent backlog passes either bound is disconnected (it stopped reading). */
  maxPendingPackets: 5_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  /** How often backlogs are checked. */
  backpressureCheckMs: 1_000,

  // --- messaging ---
  /** Calls allowed per user in a window, by message type, plus `typing` events (issue #3 defaults) and `lookup` (find_user, get_profiles). */
  rateLimits: {
    text: { limit: 60, windowMs: 60_000 },
    image: { limit: 10, windowMs: 60_000 },
    document: { limit: 5, windowMs: 60_000 },
    voice: { limit: 20, windowMs: 60_000 },
    emergency: { limit: 3, windowMs: 60_000 },
    typing: { limit: 10, windowMs: 10_000 },
    lookup: { limit: 30, windowMs: 60_000 },
  } as Record<string, { limit: number; windowMs: number }>,
  /** Largest message `content` in bytes (UTF-8); media travel as references, not inline. */
  maxContentBytes: 64 * 1024,
  /** Largest `metadata` object, serialised as JSON, in bytes. */
  maxMetadataBytes: 4 * 1024,
  /** Most members a group may have. */
  maxGroupMembers: 1_000,
  /** Most messages one `fetch_history` call returns. */
  historyPageMax: 100,
  /** Most offline-queue entries delivered at connect; the rest follow once those are marked delivered. */
  offlineFlushLimit: 500,
  /** Delivered offline-queue entries are deleted after this many days (cleanup function and TTL policy). */
  offlineRetentionDays: 7,
  /** A typing indicator disappears after this long without a refresh. */
  typingTtlMs: 5_000,
  /** How long this instance trusts its cached copy of a conversation's members (changes invalidate at once). */
  membershipCacheMs: 60_000,
  /** A store call (Firestore) that takes longer fails with UNAVAILABLE; a retry with the same clientId is safe. */
  storeTimeoutMs: 10_000,
  /** Roles (custom claims) that may send `emergency` messages. */
  emergencyRoles: ["coordinator", "admin"] as string[],
  /** Roles that may create announcement groups. */
  announcementRoles: ["coordinator", "admin"] as string[],
  /** Roles that may add and remove members of any group (moderation). */
  moderatorRoles: ["admin"] as string[],
  // --- presence ---
  /** How often each instance looks for expired connections (one instance at a time sweeps, under a Redis lock). */
  presenceSweepIntervalMs: 5_000,
  /** A user whose connections all saw no activity (or are in the background) for this long shows as away. */
  presenceIdleAfterMs: 300_000,
  /** `users/{uid}.lastActiveAt` is written at most this often per user. */
  presenceLastActiveWriteMs: 60_000,
  /** Longest wait for a Redis presence command before the instance falls back to in-memory presence. */
  presenceRedisTimeoutMs: 2_000,
  /** Most users a client may ask about in one `get_presence` call or follow through `presence_subscribe`. */
  presenceMaxQueryUsers: 500,
  /** How long a user's conversation partners (fan-out targets) are cached. */
  presenceContactsCacheMs: 30_000,
};

export type GatewayConfig = typeof defaultConfig;

const positiveMs = z.number().int().positive();

export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1),
    path: z.string().startsWith("/"),
    corsOrigins: z.array(z.string().min(1)).min(1),
    transports: z.array(z.enum(["websocket", "polling"])).min(1),
    maxHttpBufferSize: z.number().int().min(1024),
    heartbeatIntervalMs: positiveMs,
    presenceTtlMs: positiveMs,
    pingIntervalMs: positiveMs,
    pingTimeoutMs: positiveMs,
    checkRevoked: z.boolean(),
    projectId: z.string(),
    redisUrl: z.union([z.literal(""), z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://")]),
    adapter: z.enum(["sharded", "classic"]),
    messageStore: z.enum(["firestore", "memory"]),
    shutdownTimeoutMs: positiveMs,
    reconnectAfterMs: z.number().int().min(0),
    instanceId: z.string(),
    maxPendingPackets: z.number().int().positive(),
    maxBufferedBytes: z.number().int().positive(),
    backpressureCheckMs: positiveMs,
    rateLimits: z.record(z.string(), z.object({ limit: z.number().int().positive(), windowMs: positiveMs }).strict()),
    maxContentBytes: z.number().int().positive(),
    maxMetadataBytes: z.number().int().positive(),
    maxGroupMembers: z.number().int().min(2),
    historyPageMax: z.number().int().positive(),
    offlineFlushLimit: z.number().int().positive(),
    offlineRetentionDays: z.number().int().positive(),
    typingTtlMs: positiveMs,
    membershipCacheMs: z.number().int().min(0),
    storeTimeoutMs: positiveMs,
    emergencyRoles: z.array(z.string()),
    announcementRoles: z.array(z.string()),
    moderatorRoles: z.array(z.string()),
    // --- presence ---
    presenceSweepIntervalMs: positiveMs,
    presenceIdleAfterMs: positiveMs,
    presenceLastActiveWriteMs: positiveMs,
    presenceRedisTimeoutMs: positiveMs,
    presenceMaxQueryUsers: z.number().int().min(1).max(5_000),
    presenceContactsCacheMs: z.number().int().min(0),
  })
  .strict()
  .refine((c) => c.presenceTtlMs > c.heartbeatIntervalMs, {
    message: "presenceTtlMs must be longer than heartbeatIntervalMs",
    path: ["presenceTtlMs"],
  });

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid gateway configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Merges overrides into the defaults and validates the result; throws ConfigError listing every bad field. */
export function resolveConfig(
  overrides: Partial<GatewayConfig> = {},
  nameOf: (key: string) => string = (key) => key,
): GatewayConfig {
  const given = stripUndefined(overrides);
  const merged = { ...defaultConfig, ...given, rateLimits: { ...defaultConfig.rateLimits, ...given.rateLimits } };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${nameOf(String(i.path[0] ?? "config"))}: ${i.message}`));
  }
  return result.data as GatewayConfig;
}

/** Environment variable of each setting. Values are parsed by the type of the default. */
export const envNames: Record<keyof GatewayConfig, string> = {
  port: "PORT",
  host: "HOST",
  path: "SOCKET_PATH",
  corsOrigins: "CORS_ORIGINS",
  transports: "TRANSPORTS",
  maxHttpBufferSize: "MAX_HTTP_BUFFER_SIZE",
  heartbeatIntervalMs: "HEARTBEAT_INTERVAL_MS",
  presenceTtlMs: "PRESENCE_TTL_MS",
  pingIntervalMs: "PING_INTERVAL_MS",
  pingTimeoutMs: "PING_TIMEOUT_MS",
  checkRevoked: "CHECK_REVOKED",
  projectId: "FIREBASE_PROJECT_ID",
  redisUrl: "REDIS_URL",
  adapter: "SOCKET_ADAPTER",
  messageStore: "MESSAGE_STORE",
  shutdownTimeoutMs: "SHUTDOWN_TIMEOUT_MS",
  reconnectAfterMs: "RECONNECT_AFTER_MS",
  instanceId: "INSTANCE_ID",
  maxPendingPackets: "MAX_PENDING_PACKETS",
  maxBufferedBytes: "MAX_BUFFERED_BYTES",
  backpressureCheckMs: "BACKPRESSURE_CHECK_MS",
  rateLimits: "RATE_LIMITS",
  maxContentBytes: "MAX_CONTENT_BYTES",
  maxMetadataBytes: "MAX_METADATA_BYTES",
  maxGroupMembers: "MAX_GROUP_MEMBERS",
  historyPageMax: "HISTORY_PAGE_MAX",
  offlineFlushLimit: "OFFLINE_FLUSH_LIMIT",
  offlineRetentionDays: "OFFLINE_RETENTION_DAYS",
  typingTtlMs: "TYPING_TTL_MS",
  membershipCacheMs: "MEMBERSHIP_CACHE_MS",
  storeTimeoutMs: "STORE_TIMEOUT_MS",
  emergencyRoles: "EMERGENCY_ROLES",
  announcementRoles: "ANNOUNCEMENT_ROLES",
  moderatorRoles: "MODERATOR_ROLES",
  // --- presence ---
  presenceSweepIntervalMs: "PRESENCE_SWEEP_INTERVAL_MS",
  presenceIdleAfterMs: "PRESENCE_IDLE_AFTER_MS",
  presenceLastActiveWriteMs: "PRESENCE_LAST_ACTIVE_WRITE_MS",
  presenceRedisTimeoutMs: "PRESENCE_REDIS_TIMEOUT_MS",
  presenceMaxQueryUsers: "PRESENCE_MAX_QUERY_USERS",
  presenceContactsCacheMs: "PRESENCE_CONTACTS_CACHE_MS",
};

/**
 * Reads the settings present in `env`. Numbers and booleans that do not parse are reported by name,
 * so `PORT=abc` fails at start with "PORT (port): expected a number, got "abc"".
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const overrides: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(envNames) as Array<keyof GatewayConfig>) {
    const raw = env[envNames[key]];
    if (raw === undefined || raw === "") continue;
    const parsed = parseLike(defaultConfig[key], raw.trim());
    if (parsed === undefined) problems.push(`${envNames[key]} (${key}): expected ${describe(defaultConfig[key])}, got "${raw}"`);
    else overrides[key] = parsed;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolveConfig(overrides as Partial<GatewayConfig>, (key) =>
    key in envNames ? `${envNames[key as keyof GatewayConfig]} (${key})` : key,
  );
}

function parseLike(example: unknown, raw: string): unknown {
  if (typeof example === "number") {
    const n = Number(raw);
    return /^-?\d+$/.test(raw) && Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof example === "boolean") {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return undefined;
  }
  if (Array.isArray(example)) return raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (typeof example === "object" && example !== null) {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return raw;
}

function describe(example: unknown): string {
  if (typeof example === "number") return "a whole number";
  if (typeof example === "boolean") return "true or false";
  if (Array.isArray(example)) return "a comma-separated list";
  if (typeof example === "object" && example !== null) return "JSON";
  return "a string";
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

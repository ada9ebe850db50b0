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
  /** Where messages are stored: `firestore` in every real deployment, `memory` for single-process runs and benchmarks. */
  messageStore: "firestore" as "firestore" | "memory",
  /** Graceful shutdown: how long clients get to leave before the remaining sockets are closed. */
  shutdownTimeoutMs: 10_000,
  /** Clients told to reconnect after a shutdown wait about this long before trying again. */
  reconnectAfterMs: 2_000,
  /** Name of this gateway instance in logs and status reports; empty derives one from host and pid. */
  instanceId: "",
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
    messageStore: z.enum(["firestore", "memory"]),
    shutdownTimeoutMs: positiveMs,
    reconnectAfterMs: z.number().int().min(0),
    instanceId: z.string(),
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
  const merged = { ...defaultConfig, ...stripUndefined(overrides) };
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
  messageStore: "MESSAGE_STORE",
  shutdownTimeoutMs: "SHUTDOWN_TIMEOUT_MS",
  reconnectAfterMs: "RECONNECT_AFTER_MS",
  instanceId: "INSTANCE_ID",
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
  return raw;
}

function describe(example: unknown): string {
  if (typeof example === "number") return "a whole number";
  if (typeof example === "boolean") return "true or false";
  if (Array.isArray(example)) return "a comma-separated list";
  return "a string";
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

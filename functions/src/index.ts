/**
 * Cloud Functions of TALOWA messaging: thin hosts around the gateway core (src/gateway, src/control).
 * Settings are firebase-functions params (environment variables; see .env.example).
 */
import { logger } from "firebase-functions";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { defineInt, defineString } from "firebase-functions/params";
import { configFromEnv, defaultConfig, resolveConfig } from "./config";
import { createBackendProbes } from "./control/backends";
import { createControlHandler } from "./control/control-handler";
import { FleetGatewayHost } from "./control/fleet-host";
import type { GatewayHost } from "./control/gateway-host";
import { keepAliveTick } from "./control/keep-alive";
import { createSweepGate, DAY_MS, deleteDeliveredEntries } from "./control/offline-cleanup";
import { connectionInfoOf, SingleHostGateway } from "./control/single-host";
import { firebaseAuth, firestore } from "./firebase";
import { createApi } from "./http-api/create-api";
import { FirestoreBroadcastStore } from "./ports/broadcast-store/firestore-broadcast-store";
import type { Logger } from "./ports/logger";
import { systemClock } from "./ports/clock";
import { RateLimiterFacade } from "./ports/rate-limiter";
import { createRedisConnection } from "./ports/redis-connection";
import { FirebaseTokenVerifier } from "./ports/token-verifier/firebase-token-verifier";

/**
 * A firebase-functions param (declared for `firebase deploy` and the emulator, which resolve it to its
 * default when unset) read through a getter that also falls back to the default where nothing resolved
 * it (firebase-functions-test, a plain Node host): there `param.value()` would give "" or 0.
 */
function stringSetting(name: string, defaultValue: string, description: string) {
  const param = defineString(name, { default: defaultValue, description });
  return () => (process.env[name] === undefined ? defaultValue : param.value());
}

function intSetting(name: string, defaultValue: number, description: string) {
  const param = defineInt(name, { default: defaultValue, description });
  return () => (process.env[name] === undefined ? defaultValue : param.value());
}

const gatewayMode = stringSetting("GATEWAY_MODE", "single", "single: the gateway runs inside websocketServer (emulator, one host); fleet: standalone instances controlled through Redis");
/**
 * REDIS_URL is a plain environment variable, not a param: the gateway reads the same variable, the local
 * stack and tests pass it through the environment (the emulator would let a param's dotenv value win),
 * and it may carry a password, so it belongs in an uncommitted functions/.env or the service's settings.
 */
const redisUrl = () => process.env.REDIS_URL ?? "";
const publicUrl = stringSetting("GATEWAY_PUBLIC_URL", "", "the gateway URL clients connect to (the Cloud Run service URL in fleet mode)");
const idleShutdownMinutes = intSetting("IDLE_SHUTDOWN_MINUTES", 30, "keepWebSocketAlive stops a single-host gateway without clients for this long; 0 never");
const retentionDays = intSetting("OFFLINE_RETENTION_DAYS", 7, "delivered offline-queue entries older than this are deleted");
const cleanupIntervalSeconds = intSetting("CLEANUP_MIN_INTERVAL_SECONDS", 300, "at most one offline-queue sweep per function instance in this interval");
const broadcastsPerMinute = intSetting("BROADCASTS_PER_MINUTE", 3, "emergency broadcasts per caller per minute");
const activityRetentionDays = intSetting("ACTIVITY_RETENTION_DAYS", defaultConfig.activityRetentionDays, "activity log entries are deleted this many days after they happened (TTL policy on expireAt)");

const functionsLogger: Logger = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

let host: GatewayHost | undefined;
let handler: ReturnType<typeof createControlHandler> | undefined;
let controlRedis: ReturnType<typeof createRedisConnection> | undefined;

function redis() {
  const url = redisUrl();
  // Queue while connecting: the first request after a cold start must not fail for want of a ready socket.
  if (url) controlRedis ??= createRedisConnection(url, functionsLogger, "talowa-control", { queueWhileDown: true });
  return controlRedis;
}

/** The gateway settings from the environment; the Functions runtime owns PORT, the gateway takes GATEWAY_PORT / GATEWAY_HOST. */
function gatewayConfig() {
  return configFromEnv({ ...process.env, PORT: process.env.GATEWAY_PORT || "8081", HOST: process.env.GATEWAY_HOST || "127.0.0.1" });
}

/** Single host or fleet, from GATEWAY_MODE; fleet mode needs REDIS_URL. */
function gatewayHost(): GatewayHost {
  if (host) return host;
  const mode = gatewayMode();
  if (mode !== "fleet") return (host = SingleHostGateway.fromEnv({ ...process.env, REDIS_URL: redisUrl() }, functionsLogger));
  const connection = redis();
  if (!connection) throw new Error("GATEWAY_MODE=fleet needs REDIS_URL");
  const drainTimeoutMs = gatewayConfig().shutdownTimeoutMs + 5_000;
  return (host = new FleetGatewayHost({ redis: connection, drainTimeoutMs }));
}

function controlHandler() {
  handler ??= createControlHandler({
    host: gatewayHost(),
    verifier: new FirebaseTokenVerifier(firebaseAuth(), true),
    logger: functionsLogger,
    broadcasts: new FirestoreBroadcastStore(firestore()),
    rateLimiter: new RateLimiterFacade(systemClock, redis()),
    probes: createBackendProbes({ redis: redis(), db: firestore() }),
    broadcastLimit: { limit: broadcastsPerMinute(), windowMs: 60_000 },
  });
  return handler;
}

/** Control plane of the gateway: POST /start, POST /stop, GET /status, POST /emergency-broadcast. */
export const websocketServer = onRequest({ cors: true, timeoutSeconds: 120 }, async (req, res) => {
  const body = req.rawBody?.length ? req.rawBody.toString("utf8") : req.body;
  try {
    const answer = await controlHandler()({ method: req.method, path: req.path, headers: req.headers, body });
    res.status(answer.status).json(answer.body);
  } catch (error) {
    // Only a misconfiguration (bad GATEWAY_* / REDIS_URL settings) gets here: the handler answers everything else.
    functionsLogger.error("websocketServer misconfigured", { error: String(error) });
    res.status(500).json({ ok: false, error: { code: "INTERNAL", message: `The control plane is misconfigured: ${(error as Error).message}` } });
  }
});

let apiHandler: ReturnType<typeof createApi> | undefined;

/** The HTTP API (docs/HTTP-API.md): presence, profiles, conversations, the activity log, admin analytics. */
export const api = onRequest({ cors: true, timeoutSeconds: 60 }, async (req, res) => {
  try {
    apiHandler ??= createApi(resolveConfig({ ...gatewayConfig(), activityRetentionDays: activityRetentionDays() }), { redis: redis(), logger: functionsLogger });
    const body = req.rawBody?.length ? req.rawBody : undefined;
    const answer = await apiHandler({ method: req.method, path: req.path, query: req.query as Record<string, unknown>, headers: req.headers, body });
    if (answer.headers) res.set(answer.headers);
    res.status(answer.status).json(answer.body);
  } catch (error) {
    // Only a misconfiguration (bad settings) gets here: the handler answers everything else.
    functionsLogger.error("api misconfigured", { error: String(error) });
    res.status(500).json({ ok: false, error: { code: "INTERNAL", message: `The API is misconfigured: ${(error as Error).message}` } });
  }
});

/** Public: what a client needs to connect. */
export const getWebSocketInfo = onRequest({ cors: true }, (_req, res) => {
  const config = gatewayConfig();
  const url = publicUrl() || `http://${config.host}:${config.port}`;
  res.json({ ok: true, mode: gatewayMode(), ...connectionInfoOf(config, url) });
});

/** Every 8 minutes: health of every gateway instance, one stats line, idle auto-shutdown (single host). */
export const keepWebSocketAlive = onSchedule({ schedule: "every 8 minutes", timeoutSeconds: 120 }, async () => {
  await keepAliveTick({ host: gatewayHost(), logger: functionsLogger, idleShutdownMs: idleShutdownMinutes() * 60_000 });
});

const sweepGate = createSweepGate();

/** Safety net beside the TTL policy: an entry became delivered → delete delivered entries past retention. */
export const cleanupOfflineMessages = onDocumentWritten("offline_queue/{entryId}", async (event) => {
  const change = { before: event.data?.before.data(), after: event.data?.after.data() };
  const now = Date.now();
  if (!sweepGate(change, now, cleanupIntervalSeconds() * 1000)) return;
  const result = await deleteDeliveredEntries(firestore(), { retentionMs: retentionDays() * DAY_MS, now });
  functionsLogger.info("cleanupOfflineMessages", { trigger: event.params.entryId, ...result });
});

/**
 * Cloud Functions of TALOWA messaging: thin hosts around the gateway core (src/gateway, src/control).
 * Every setting comes from config.ts (environment variables; the `param` ones are also firebase-functions params).
 */
import { logger } from "firebase-functions";
import { defineInt, defineString } from "firebase-functions/params";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { configFromEnv, GatewayConfig, settings } from "./config";
import { createBackendProbes } from "./control/backends";
import { createControlHandler } from "./control/control-handler";
import { FleetGatewayHost } from "./control/fleet-host";
import type { GatewayHost } from "./control/gateway-host";
import { keepAliveTick } from "./control/keep-alive";
import { createSweepGate, DAY_MS, deleteDeliveredEntries } from "./control/offline-cleanup";
import { connectionInfoOf, SingleHostGateway } from "./control/single-host";
import { firebaseAuth, firestore } from "./firebase";
import { createApi } from "./http-api/create-api";
import { broadcastPush } from "./control/broadcast-reach";
import { pushSender } from "./gateway/create-gateway";
import { FirestoreDeviceRegistry } from "./ports/device-registry/firestore-device-registry";
import { PushDispatcher } from "./ports/push-sender/push-dispatcher";
import type { EmergencyBroadcastPayload } from "./protocol";
import { FirebaseBroadcastAudience } from "./ports/broadcast-audience/firebase-broadcast-audience";
import { FirestoreBroadcastReceipts } from "./ports/broadcast-receipts/firestore-broadcast-receipts";
import { FirebaseAccountState } from "./ports/account-state/firebase-account-state";
import { FirestoreBroadcastStore } from "./ports/broadcast-store/firestore-broadcast-store";
import type { Logger } from "./ports/logger";
import { systemClock } from "./ports/clock";
import { RateLimiterFacade } from "./ports/rate-limiter";
import { createRedisConnection } from "./ports/redis-connection";
import { FirebaseTokenVerifier } from "./ports/token-verifier/firebase-token-verifier";

/**
 * The settings marked `param` in config.ts, declared as firebase-functions params so `firebase deploy`
 * prompts for them and the emulator resolves them (from functions/.env*) into the environment, where
 * `configFromEnv` reads every setting, params included, in one place.
 */
for (const setting of Object.values(settings)) {
  if (!("param" in setting) || !setting.param) continue;
  const options = { description: setting.doc };
  if (typeof setting.default === "number") defineInt(setting.env, { ...options, default: setting.default });
  else defineString(setting.env, { ...options, default: String(setting.default) });
}

let config: GatewayConfig | undefined;
/** Validated once per function instance; a bad setting fails the request that first needs it, naming the variable. */
const settingsNow = () => (config ??= configFromEnv(process.env, { host: "functions" }));

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
  const url = settingsNow().redisUrl;
  // Queue while connecting: the first request after a cold start must not fail for want of a ready socket.
  if (url) controlRedis ??= createRedisConnection(url, functionsLogger, "talowa-control", { queueWhileDown: true });
  return controlRedis;
}

/** Single host or fleet, from GATEWAY_MODE; fleet mode needs REDIS_URL. */
function gatewayHost(): GatewayHost {
  if (host) return host;
  const settings = settingsNow();
  if (settings.gatewayMode !== "fleet") return (host = new SingleHostGateway(settings, functionsLogger));
  const connection = redis();
  if (!connection) throw new Error("GATEWAY_MODE=fleet needs REDIS_URL");
  const drainTimeoutMs = settings.shutdownTimeoutMs + 5_000;
  return (host = new FleetGatewayHost({ redis: connection, drainTimeoutMs, controlSecret: settings.controlSecret }));
}

function controlHandler() {
  handler ??= createControlHandler({
    host: gatewayHost(),
    verifier: new FirebaseTokenVerifier(firebaseAuth(), true),
    logger: functionsLogger,
    broadcasts: new FirestoreBroadcastStore(firestore()),
    rateLimiter: new RateLimiterFacade(systemClock, redis()),
    probes: createBackendProbes({ redis: redis(), db: firestore() }),
    broadcastLimit: { limit: settingsNow().broadcastsPerMinute, windowMs: 60_000 },
    controlRoles: settingsNow().controlRoles,
    reach: {
      audience: new FirebaseBroadcastAudience(firebaseAuth(), firestore()),
      receipts: new FirestoreBroadcastReceipts(firestore()),
      unreachedLive: pushToUnreached(new PushDispatcher(new FirestoreDeviceRegistry(firestore()), pushSender(settingsNow()), functionsLogger)),
    },
    accounts: new FirebaseAccountState(firebaseAuth()),
  });
  return handler;
}

/** Emergency broadcasts not delivered live: a high-priority push at once (the replay follows on connect). */
function pushToUnreached(push: PushDispatcher) {
  return async (broadcast: EmergencyBroadcastPayload, uids: string[]) => void (await push.notify(uids, broadcastPush(broadcast)));
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
    apiHandler ??= createApi(settingsNow(), { redis: redis(), logger: functionsLogger });
    const body = req.rawBody?.length ? req.rawBody : undefined;
    const answer = await apiHandler({ method: req.method, path: req.path, query: req.query as Record<string, unknown>, headers: req.headers, body });
    if (answer.headers) res.set(answer.headers);
    res.status(answer.status).json(answer.body);
  } catch (error) {
    // Only a misconfiguration (a bad setting) gets here: the handler answers everything else.
    functionsLogger.error("api misconfigured", { error: String(error) });
    res.status(500).json({ ok: false, error: { code: "INTERNAL", message: `The API is misconfigured: ${(error as Error).message}` } });
  }
});

/** Public: what a client needs to connect. */
export const getWebSocketInfo = onRequest({ cors: true }, (_req, res) => {
  const settings = settingsNow();
  const url = settings.publicUrl || `http://${settings.host}:${settings.port}`;
  res.json({ ok: true, mode: settings.gatewayMode, ...connectionInfoOf(settings, url) });
});

/** Every 8 minutes: health of every gateway instance, one stats line, idle auto-shutdown (single host). */
export const keepWebSocketAlive = onSchedule({ schedule: "every 8 minutes", timeoutSeconds: 120 }, async () => {
  await keepAliveTick({ host: gatewayHost(), logger: functionsLogger, idleShutdownMs: settingsNow().idleShutdownMinutes * 60_000 });
});

const sweepGate = createSweepGate();

/** Safety net beside the TTL policy: an entry became delivered → delete delivered entries past retention. */
export const cleanupOfflineMessages = onDocumentWritten("offline_queue/{entryId}", async (event) => {
  const change = { before: event.data?.before.data(), after: event.data?.after.data() };
  const now = Date.now();
  const { cleanupMinIntervalSeconds, offlineRetentionDays } = settingsNow();
  if (!sweepGate(change, now, cleanupMinIntervalSeconds * 1000)) return;
  const result = await deleteDeliveredEntries(firestore(), { retentionMs: offlineRetentionDays * DAY_MS, now });
  functionsLogger.info("cleanupOfflineMessages", { trigger: event.params.entryId, ...result });
});

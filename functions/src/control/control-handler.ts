import { randomUUID } from "node:crypto";
import { GatewayError } from "../errors";
import { tokenFromHandshake } from "../gateway/auth-middleware";
import type { BroadcastStore } from "../ports/broadcast-store/broadcast-store";
import { Clock, systemClock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import { RateLimiter, requireWithinLimit } from "../ports/rate-limiter";
import type { TokenVerifier, VerifiedIdentity } from "../ports/token-verifier/token-verifier";
import type { EmergencyBroadcastPayload } from "../protocol";
import { broadcastBodySchema } from "../gateway/control-auth";
import type { AccountStatePort } from "../ports/account-state/account-state";
import { revokeSessions } from "./session-revoke";
import type { BackendProbes } from "./backends";
import { broadcastReach, BroadcastReachDeps } from "./broadcast-reach";
import type { GatewayHost } from "./gateway-host";
import type { ControlRequest, ControlResponse } from "./http-types";
import { summarizeInstance, totalOf } from "./status";

export interface ControlDeps {
  host: GatewayHost;
  verifier: TokenVerifier;
  logger: Logger;
  broadcasts: BroadcastStore;
  rateLimiter: RateLimiter;
  probes?: BackendProbes;
  clock?: Clock;
  /** Emergency broadcasts per caller and window (config `broadcastsPerMinute`). */
  broadcastLimit: { limit: number; windowMs: number };
  /** Roles that may start, stop and broadcast (config `controlRoles`); others see liveness only. */
  controlRoles: string[];
  /** Receipts and audiences of broadcasts (targets, GET /emergency-broadcast/{id}, resend); see broadcast-reach.ts. */
  reach?: Omit<BroadcastReachDeps, "deliver" | "broadcasts">;
  /** Firebase Auth (revokeRefreshTokens) for `POST /sessions/revoke`. */
  accounts?: AccountStatePort;
}

/** The public broadcast body; the gateway's `POST /broadcast` checks relayed broadcasts against the same schema. */
const broadcastBody = broadcastBodySchema;

/**
 * The `websocketServer` control plane: `POST /start`, `POST /stop`, `GET /status`, `POST /emergency-broadcast`.
 * Framework-free so the Cloud Function, a standalone admin server and tests share it.
 */
export function createControlHandler(deps: ControlDeps) {
  const clock = deps.clock ?? systemClock;
  const limit = deps.broadcastLimit;
  const isAdmin = (identity: VerifiedIdentity) => identity.roles.some((r) => deps.controlRoles.includes(r));
  const reach = deps.reach && broadcastReach({ ...deps.reach, broadcasts: deps.broadcasts, deliver: (b) => deps.host.broadcast(b) }, () => clock.now());

  const routes: Record<string, (req: ControlRequest) => Promise<ControlResponse>> = {
    "POST /start": async (req) => {
      const caller = await requireAdmin(req);
      const result = await deps.host.start();
      deps.logger.info("control: start", { by: caller.uid, mode: deps.host.mode, ...result });
      return ok({ mode: deps.host.mode, ...result });
    },
    "POST /stop": async (req) => {
      const caller = await requireAdmin(req);
      const result = await deps.host.stop();
      deps.logger.info("control: stop", { by: caller.uid, mode: deps.host.mode, ...result });
      return ok({ mode: deps.host.mode, ...result });
    },
    "GET /status": async (req) => {
      const caller = await identify(req).catch(() => undefined);
      const instances = (await deps.host.instances()).map(summarizeInstance);
      const running = instances.some((i) => i.state === "running" && !i.stale);
      if (!caller || !isAdmin(caller)) return ok({ running });
      const backends = await backendStatus();
      // The presence feature reports its mode; without it, presence follows Redis (in memory while Redis is away).
      const presenceMode = instances.find((i) => i.presenceMode)?.presenceMode ?? (backends.backends?.redis.reachable ? "redis" : "memory");
      return ok({ running, mode: deps.host.mode, generatedAt: clock.now(), presenceMode, total: totalOf(instances), instances, ...backends });
    },
    // --- issue 11: admin kick ---
    "POST /sessions/revoke": async (req) => ok(await revokeSessions(deps, (await requireAdmin(req)).uid, req.body)),
    "POST /emergency-broadcast": async (req) => {
      const caller = await requireAdmin(req);
      const input = parseBody(req.body);
      await requireWithinLimit(deps.rateLimiter, `broadcast:${caller.uid}`, limit, "emergency broadcasts");
      const broadcast: EmergencyBroadcastPayload = { id: randomUUID(), ...input, senderId: caller.uid, createdAt: clock.now() };
      if (!reach && input.target) throw new GatewayError("UNAVAILABLE", "Targeted broadcasts need receipts, which this control plane lacks.");
      const targeted = reach ? await reach.record(broadcast) : undefined;
      await deps.broadcasts.save(broadcast).catch((error) => {
        deps.logger.error("broadcast not stored", { error: String(error) });
        throw new GatewayError("UNAVAILABLE", "The broadcast could not be stored; nothing was sent. Retry later.");
      });
      const live = await deps.host.broadcast(broadcast).catch((error) => {
        deps.logger.warn("broadcast stored but not delivered live", { id: broadcast.id, error: String(error) });
        return { delivered: 0, instances: 0 };
      });
      await reach?.afterLive(broadcast).catch((error) => deps.logger.warn("broadcast push failed", { id: broadcast.id, error: String(error) }));
      deps.logger.info("control: emergency broadcast", { by: caller.uid, id: broadcast.id, priority: broadcast.priority, targeted, ...live });
      return ok({ broadcast, ...live, stored: true, ...(targeted === undefined ? {} : { targeted }) });
    },
  };

  async function backendStatus(): Promise<{ backends?: { redis: { reachable: boolean }; firestore: unknown }; offlineQueueDepth?: number | null }> {
    if (!deps.probes) return {};
    const [redis, firestore, offlineQueueDepth] = await Promise.all([deps.probes.redis(), deps.probes.firestore(), deps.probes.offlineQueueDepth()]);
    return { backends: { redis, firestore }, offlineQueueDepth };
  }

  return async function handle(req: ControlRequest): Promise<ControlResponse> {
    const path = normalise(req.path);
    const fixed = routes[`${req.method.toUpperCase()} ${path}`];
    const byId = reach?.route(req.method.toUpperCase(), path, req);
    const route = fixed ?? (byId && (async (r: ControlRequest) => (await requireAdmin(r), byId())));
    try {
      if (!route) {
        const allowed = Object.keys(routes).filter((r) => r.endsWith(` ${path}`)).map((r) => r.split(" ")[0]);
        if (allowed.length) return fail(405, new GatewayError("INVALID_ARGUMENT", `Method ${req.method} is not allowed on ${path}; use ${allowed.join(", ")}.`));
        return fail(404, new GatewayError("NOT_FOUND", `No route ${req.method} ${path}; routes: ${Object.keys(routes).join(", ")}.`));
      }
      return await route(req);
    } catch (error) {
      const gatewayError = GatewayError.from(error);
      if (gatewayError.code === "INTERNAL") deps.logger.error("control request failed", { path, error: String(error) });
      return fail(httpStatusOf(gatewayError), gatewayError);
    }
  };

  async function identify(req: ControlRequest): Promise<VerifiedIdentity> {
    const token = tokenFromHandshake({ auth: {}, headers: req.headers, query: {} });
    if (!token) throw new GatewayError("UNAUTHENTICATED", "An Authorization: Bearer <Firebase ID token> header is required.");
    return deps.verifier.verify(token);
  }

  async function requireAdmin(req: ControlRequest): Promise<VerifiedIdentity> {
    const caller = await identify(req);
    if (!isAdmin(caller)) throw new GatewayError("PERMISSION_DENIED", `This needs one of the roles: ${deps.controlRoles.join(", ")}.`);
    return caller;
  }
}

function parseBody(raw: unknown) {
  let value = raw;
  if (typeof raw === "string" || Buffer.isBuffer(raw)) {
    try {
      value = JSON.parse(raw.toString());
    } catch {
      throw new GatewayError("INVALID_ARGUMENT", "The body must be JSON: { title, body, priority? }.");
    }
  }
  const result = broadcastBody.safeParse(value ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    throw new GatewayError("INVALID_ARGUMENT", `Invalid broadcast: ${problems.join("; ")}.`);
  }
  return result.data;
}

function normalise(path: string): string {
  const bare = path.split("?")[0].replace(/\/+$/, "");
  return bare === "" ? "/status" : bare;
}

const statusByCode: Record<string, number> = {
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function httpStatusOf(error: GatewayError): number {
  return statusByCode[error.code] ?? 500;
}

function ok(body: Record<string, unknown>): ControlResponse {
  return { status: 200, body: { ok: true, ...body } };
}

function fail(status: number, error: GatewayError): ControlResponse {
  return { status, body: { ok: false, error: error.data } };
}

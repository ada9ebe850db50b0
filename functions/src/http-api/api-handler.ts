import { httpStatusOf } from "../control/control-handler";
import { GatewayError } from "../errors";
import { tokenFromHandshake } from "../gateway/auth-middleware";
import type { VerifiedIdentity } from "../ports/token-verifier/token-verifier";
import { isApiAdmin } from "./admin";
import { matchRoute } from "./router";
import { activityRoutes } from "./routes/activity";
import { analyticsRoutes } from "./routes/analytics";
import { conversationRoutes } from "./routes/conversations";
import { presenceRoutes } from "./routes/presence";
import { profileRoutes } from "./routes/profiles";
import type { ApiDeps, ApiRequest, ApiResponse, Route } from "./types";

export const API_ROUTES: Route[] = [...presenceRoutes, ...profileRoutes, ...conversationRoutes, ...activityRoutes, ...analyticsRoutes];

/**
 * The HTTP API beside the socket (docs/HTTP-API.md), framework-free: route (404 / 405), body size
 * (413), Firebase ID token (401), admin role for /admin (403), the route's rate limit shared through
 * Redis (429 with retryAfterMs), JSON body (400), then the route itself, whose backend calls are
 * bounded (503). Every answer is JSON; errors are `{ ok: false, error: { code, message, retryAfterMs? } }`.
 */
export function createApiHandler(deps: ApiDeps) {
  return async function handle(req: ApiRequest): Promise<ApiResponse> {
    const path = req.path.split("?")[0].replace(/\/+$/, "") || "/";
    try {
      const match = matchRoute(API_ROUTES, req.method, path);
      if (!match) throw new GatewayError("NOT_FOUND", `No route ${req.method} ${path}; see docs/HTTP-API.md.`);
      if (!("route" in match)) return fail(405, new GatewayError("INVALID_ARGUMENT", `Method ${req.method} is not allowed on ${path}; use ${match.allowed.join(", ")}.`), { allow: match.allowed.join(", ") });
      const raw = rawBody(req, deps.config.httpMaxBodyBytes);
      const caller = await authenticate(req);
      if (match.route.admin && !isApiAdmin(deps.config, caller)) throw new GatewayError("PERMISSION_DENIED", `Analytics need one of the roles: ${deps.config.controlRoles.join(", ")}.`);
      await enforceLimit(match.route, caller);
      const body = parseJson(raw, req.body);
      const now = deps.clock.now();
      const result = await match.route.handler({ caller, params: match.params, query: req.query ?? {}, headers: req.headers, body, now, deps });
      return { status: result.status ?? 200, body: { ok: true, ...result.body } };
    } catch (error) {
      const failure = GatewayError.from(error);
      if (failure.code === "INTERNAL") deps.logger.error("api request failed", { method: req.method, path, error: error instanceof Error ? error.stack : String(error) });
      const headers = failure.data.retryAfterMs ? { "retry-after": String(Math.ceil(failure.data.retryAfterMs / 1000)) } : undefined;
      return fail(httpStatusOf(failure), failure, headers);
    }
  };

  async function authenticate(req: ApiRequest): Promise<VerifiedIdentity> {
    const token = tokenFromHandshake({ auth: {}, headers: req.headers, query: {} });
    if (!token) throw new GatewayError("UNAUTHENTICATED", "An Authorization: Bearer <Firebase ID token> header is required.", { reason: "TOKEN_MISSING" });
    return deps.verifier.verify(token);
  }

  async function enforceLimit(route: Route, caller: VerifiedIdentity): Promise<void> {
    const group = route.limit ?? "default";
    const rule = deps.config.httpRateLimits[group] ?? deps.config.httpRateLimits.default;
    const decision = await deps.rateLimiter.consume(`http:${group}:${caller.uid}`, rule.limit, rule.windowMs);
    if (decision.allowed) return;
    const seconds = Math.ceil(decision.retryAfterMs / 1000);
    throw new GatewayError("RATE_LIMITED", `At most ${rule.limit} requests per ${rule.windowMs / 1000} s here; retry in ${seconds} s.`, { retryAfterMs: decision.retryAfterMs });
  }
}

/** The body as text, refused with 413 when larger than allowed (by Content-Length or by what arrived). */
function rawBody(req: ApiRequest, maxBytes: number): string | undefined {
  const declared = Number(first(req.headers["content-length"]) ?? 0);
  const text = typeof req.body === "string" ? req.body : Buffer.isBuffer(req.body) ? req.body.toString("utf8") : undefined;
  const size = text !== undefined ? Buffer.byteLength(text) : 0;
  if (declared > maxBytes || size > maxBytes) throw new GatewayError("PAYLOAD_TOO_LARGE", `The body is larger than ${maxBytes} bytes.`);
  return text;
}

function parseJson(raw: string | undefined, given: unknown): unknown {
  if (raw === undefined) return given === undefined || (typeof given === "object" && given !== null && Object.keys(given).length === 0) ? undefined : given;
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new GatewayError("INVALID_ARGUMENT", "The body must be JSON.");
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fail(status: number, error: GatewayError, headers?: Record<string, string>): ApiResponse {
  return { status, body: { ok: false, error: error.data }, ...(headers ? { headers } : {}) };
}

import { GatewayError } from "../errors";
import { tokenFromHandshake } from "../gateway/auth-middleware";
import type { Logger } from "../ports/logger";
import type { TokenVerifier, VerifiedIdentity } from "../ports/token-verifier/token-verifier";
import type { ControlRequest, ControlResponse } from "./http-types";
import type { SingleHostGateway } from "./single-host";

/** Roles that may start, stop and broadcast; everybody else sees liveness only. */
export const CONTROL_ROLES = ["admin"];

/**
 * The `websocketServer` control plane: `POST /start`, `POST /stop`, `GET /status`.
 * Framework-free so the Cloud Function, a standalone admin server and tests share it.
 */
export function createControlHandler(deps: { host: SingleHostGateway; verifier: TokenVerifier; logger: Logger }) {
  const routes: Record<string, (req: ControlRequest) => Promise<ControlResponse>> = {
    "POST /start": async (req) => {
      const caller = await requireAdmin(req);
      const result = await deps.host.start();
      deps.logger.info("control: start", { by: caller.uid, ...result });
      return ok({ running: true, ...result, url: deps.host.url });
    },
    "POST /stop": async (req) => {
      const caller = await requireAdmin(req);
      const result = await deps.host.stop();
      deps.logger.info("control: stop", { by: caller.uid, ...result });
      return ok({ running: false, ...result });
    },
    "GET /status": async (req) => {
      const stats = await deps.host.stats();
      const caller = await identify(req).catch(() => undefined);
      const running = stats !== undefined && stats.state === "running";
      if (!caller || !isAdmin(caller)) return ok({ running });
      return ok({ running, url: deps.host.url, gateway: stats ?? null });
    },
  };

  return async function handle(req: ControlRequest): Promise<ControlResponse> {
    const path = normalise(req.path);
    const route = routes[`${req.method.toUpperCase()} ${path}`];
    try {
      if (!route) {
        const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
        if (known) return fail(405, new GatewayError("INVALID_ARGUMENT", `Method ${req.method} is not allowed on ${path}`));
        return fail(404, new GatewayError("NOT_FOUND", `No route ${req.method} ${path}`));
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
    if (!isAdmin(caller)) throw new GatewayError("PERMISSION_DENIED", `This needs one of the roles: ${CONTROL_ROLES.join(", ")}.`);
    return caller;
  }
}

function isAdmin(identity: VerifiedIdentity): boolean {
  return identity.roles.some((r) => CONTROL_ROLES.includes(r));
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

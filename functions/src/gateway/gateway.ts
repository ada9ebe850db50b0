import { createServer, IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { Server, ServerOptions } from "socket.io";
import type { GatewayConfig } from "../config";
import { GatewayError } from "../errors";
import { EmergencyBroadcastPayload, PROTOCOL_VERSION } from "../protocol";
import { Clock, systemClock } from "../ports/clock";
import { Logger, silentLogger } from "../ports/logger";
import type { RateLimiter } from "../ports/rate-limiter";
import type { TokenVerifier } from "../ports/token-verifier/token-verifier";
import { createAuthMiddleware } from "./auth-middleware";
import { controlRefusal, parseRelayedBroadcast, parseUid, readCappedJson, sameSecret } from "./control-auth";
import { CallRegistry } from "./calls";
import type { GatewayFigures } from "./figures";
import { GatewayHooks } from "./hooks";
import { localAudience } from "./broadcast-audience";
import { withTimeout } from "../util/with-timeout";
import { LoadShedder } from "./load-shedding";
import { GatewayMetrics, valueOf, valuesBy } from "./metrics";
import { FeatureFactory, GatewayContext, GatewayControl, GatewayFeature, GatewayServer, GatewaySocket, GatewayState, userRoom } from "./types";

export interface GatewayDeps {
  verifier: TokenVerifier;
  rateLimiter: RateLimiter;
  logger?: Logger;
  clock?: Clock;
  /** The capabilities (sending, presence ...), built from the gateway's context once the server exists. */
  features?: FeatureFactory[];
  /** Run after every socket is closed (Redis connections, store clients ...). */
  closers?: Array<() => Promise<unknown> | unknown>;
  /** Socket.IO adapter factory (the sharded Redis adapter when several instances share Redis). */
  adapter?: ServerOptions["adapter"];
  /**
   * Awaited before the port opens (Redis connecting): sockets admitted before it is ready would be counted by
   * this instance's memory budgets instead of the shared ones. Must settle by itself, ready or not.
   */
  beforeListen?: () => Promise<void>;
  /** Calls back with false when the gateway's Redis fails and true when it is back (`redisHealth` hook). */
  watchRedis?: (report: (up: boolean) => void) => void;
}

export type { GatewayState };

/** Listen backlog: the default 511 overflows with ~1,000 handshakes in flight (measured), and clients then wait 1 s. */
const LISTEN_BACKLOG = 4096;

/**
 * The Socket.IO messaging gateway. It knows nothing of Cloud Functions: a host (standalone process,
 * the `websocketServer` function, a test) builds it through `createGateway` (the composition root),
 * then calls start/stop. It owns the transport, admission, lifecycle and the plain HTTP routes; every
 * capability is a feature.
 */
export class Gateway implements GatewayControl {
  readonly io: GatewayServer;
  readonly httpServer: HttpServer;
  readonly instanceId: string;
  readonly metrics = new GatewayMetrics();
  private readonly load: LoadShedder;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly hooks: GatewayHooks;
  private readonly calls: CallRegistry;
  private readonly beforeListen?: () => Promise<void>;
  private readonly features: GatewayFeature[];
  private readonly closers: Array<() => Promise<unknown> | unknown>;
  private readonly socketsByUser = new Map<string, number>();
  private peak = 0;
  private state: GatewayState = "idle";
  private startedAt = 0;
  /** Fleet control: a paused (drained) gateway keeps its HTTP server up but refuses sockets. */
  private admitting = true;

  constructor(
    readonly config: GatewayConfig,
    deps: GatewayDeps,
  ) {
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.instanceId = config.instanceId || `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.httpServer = createServer((req, res) => this.serveHttp(req, res));
    this.io = new Server(this.httpServer, {
      path: config.path,
      transports: config.transports,
      maxHttpBufferSize: config.maxHttpBufferSize,
      pingInterval: config.pingIntervalMs,
      pingTimeout: config.pingTimeoutMs,
      cors: corsOf(config.corsOrigins),
      ...(deps.adapter ? { adapter: deps.adapter } : {}),
    });
    this.hooks = new GatewayHooks(this.logger);
    const calls = (this.calls = new CallRegistry({ logger: this.logger, clock: this.clock, rateLimiter: deps.rateLimiter, rateLimits: config.rateLimits, hooks: this.hooks, metrics: this.metrics, maxRefusedCallsPerMinute: config.maxRefusedCallsPerMinute }));
    this.load = new LoadShedder(
      {
        maxInFlightStoreOps: config.maxInFlightStoreOps,
        maxPendingAdmissions: config.maxPendingAdmissions,
        maxEventLoopLagMs: config.maxEventLoopLagMs,
        retryAfterMs: config.shedRetryAfterMs,
      },
      this.metrics,
    );
    const ctx: GatewayContext = { config, io: this.io, logger: this.logger, clock: this.clock, instanceId: this.instanceId, hooks: this.hooks, calls, metrics: this.metrics, load: this.load, gateway: this };
    this.closers = deps.closers ?? [];
    this.beforeListen = deps.beforeListen;
    this.features = (deps.features ?? []).map((build) => build(ctx));
    deps.watchRedis?.((up) => {
      this.metrics.redisUp.set(up ? 1 : 0);
      void this.hooks.emit("redisHealth", { up });
    });
    const authenticate = createAuthMiddleware({
      verifier: deps.verifier,
      logger: this.logger,
      clock: this.clock,
      isAdmitting: () => this.isAdmitting,
      refused: (reason) => this.metrics.connectionsRefused.inc({ reason }),
      allowTokenInQuery: this.config.allowTokenInQuery,
    });
    // One admission: within the bound on admissions in progress (else refused at once, UNAVAILABLE with
    // retryAfterMs), then the screens and the token check, then what the features load before the socket connects.
    this.io.use((socket, next) => {
      const refusal = this.load.startAdmission();
      if (refusal) {
        this.metrics.connectionsRefused.inc({ reason: "OVERLOADED" });
        return next(refusal);
      }
      void this.admission(socket, authenticate).then(
        () => {
          this.load.endAdmission();
          next();
        },
        (error: Error) => {
          this.load.endAdmission();
          next(error);
        },
      );
    });
    this.io.on("connection", (socket) => this.admit(socket));
  }

  get status(): GatewayState {
    return this.state;
  }

  /** Listens on the configured host and port (0 picks one) and resolves with the bound port. */
  async start(): Promise<number> {
    if (this.state === "running") return this.port;
    if (this.state !== "idle") throw new Error(`cannot start a gateway that is ${this.state}`);
    await this.beforeListen?.();
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once("error", reject);
      this.httpServer.listen({ port: this.config.port, host: this.config.host, backlog: LISTEN_BACKLOG }, () => {
        this.httpServer.off("error", reject);
        resolve();
      });
    });
    this.state = "running";
    this.startedAt = this.clock.now();
    this.logger.info("gateway started", { instanceId: this.instanceId, port: this.port, host: this.config.host });
    return this.port;
  }

  get port(): number {
    return (this.httpServer.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Graceful stop: refuse new connections, tell every client to reconnect later (`server_shutdown`),
   * give them `shutdownTimeoutMs` to leave, then close what is left. Idempotent.
   */
  async stop(reason: "shutdown" | "stopped" = "shutdown"): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped" || this.state === "idle") {
      this.state = this.state === "idle" ? "stopped" : this.state;
      return;
    }
    this.state = "stopping";
    const started = this.clock.now();
    this.logger.info("gateway stopping", { reason, sockets: this.io.of("/").sockets.size });
    // local: only this instance's clients; the others keep theirs.
    this.io.local.emit("server_shutdown", { reason, reconnectAfterMs: this.config.reconnectAfterMs });
    for (const feature of this.features) await feature.stop?.().catch((e) => this.logger.error("feature stop failed", { feature: feature.name, error: String(e) }));
    await this.waitForSocketsToLeave(this.config.shutdownTimeoutMs);
    for (const socket of this.io.of("/").sockets.values()) socket.disconnect(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
    for (const close of this.closers) await Promise.resolve(close()).catch((e) => this.logger.warn("close failed", { error: String(e) }));
    this.load.stop();
    this.state = "stopped";
    this.logger.info("gateway stopped", { reason, tookMs: this.clock.now() - started });
  }

  // --- control: pause / resume (fleet drain), broadcasts ----------------------------------------

  get isAdmitting(): boolean {
    return this.state === "running" && this.admitting;
  }

  /**
   * Drain without exiting: refuse new sockets, tell clients to reconnect later (another instance may
   * take them), give them `shutdownTimeoutMs` to leave, then disconnect the rest. Idempotent.
   */
  async pause(): Promise<{ disconnected: number }> {
    this.admitting = false;
    const sockets = this.io.of("/").sockets;
    if (sockets.size === 0) return { disconnected: 0 };
    const count = sockets.size;
    this.logger.info("gateway pausing", { sockets: count });
    this.io.local.emit("server_shutdown", { reason: "stopped", reconnectAfterMs: this.config.reconnectAfterMs });
    await this.waitForSocketsToLeave(this.config.shutdownTimeoutMs);
    for (const socket of sockets.values()) socket.disconnect(true);
    return { disconnected: count };
  }

  /** Admit again after `pause`; true when it changed anything. */
  resume(): boolean {
    const changed = !this.admitting;
    this.admitting = true;
    if (changed) this.logger.info("gateway admitting again", { instanceId: this.instanceId });
    return changed;
  }

  /**
   * Emits an already stored emergency broadcast to this instance's sockets it is for (its target); resolves,
   * once the `broadcastDelivered` listeners recorded the deliveries, with how many sockets it reached.
   */
  async deliverBroadcast(broadcast: EmergencyBroadcastPayload): Promise<number> {
    const sockets = localAudience(this.io, broadcast);
    const { resendTo: _only, ...wire } = broadcast;
    for (const socket of sockets) socket.emit("emergency_broadcast", wire);
    this.metrics.broadcastsDelivered.inc(sockets.length);
    await this.hooks.emit("broadcastDelivered", { broadcast, at: this.clock.now(), uids: [...new Set(sockets.map((s) => s.data.uid))] });
    return sockets.length;
  }

  /** Admin kick (issue 11): ends every session of `uid` on this instance; the host reaches every instance. */
  endSessions(uid: string): number {
    const sockets = [...this.io.of("/").sockets.values()].filter((s) => s.data.uid === uid);
    for (const socket of sockets) {
      socket.emit("session_ended", { reason: "TOKEN_REVOKED", message: "An administrator ended this session; sign in again." });
      socket.disconnect(true);
    }
    this.metrics.sessionsEnded.inc({ reason: "ADMIN_KICK" }, sockets.length);
    return sockets.length;
  }

  // -------------------------------------------------------------------------------------------------

  async stats(): Promise<GatewayFigures> {
    const m = this.metrics;
    const active = this.io.of("/").sockets.size;
    m.connectionsActive.set(active);
    m.uniqueUsers.set(this.socketsByUser.size);
    const [peak, total, refused] = await Promise.all([valueOf(m.connectionsPeak), valueOf(m.connectionsAdmitted), valueOf(m.connectionsRefused)]);
    const figures: GatewayFigures = {
      instanceId: this.instanceId,
      state: this.state,
      admitting: this.isAdmitting,
      startedAt: this.startedAt || null,
      uptimeMs: this.state === "running" ? this.clock.now() - this.startedAt : 0,
      protocolVersion: PROTOCOL_VERSION,
      connections: { active, authenticated: active, peak, total, refused, uniqueUsers: this.socketsByUser.size },
      memory: process.memoryUsage(),
      load: { ...this.load.inFlight, refused: await valuesBy(m.loadShed, "kind") },
    };
    for (const feature of this.features) if (feature.figures) Object.assign(figures, await feature.figures());
    return figures;
  }

  private admit(socket: GatewaySocket): void {
    const { uid, roles, connectedAt } = socket.data;
    this.countConnected(uid);
    socket.join(userRoom(uid));
    socket.on("disconnect", (reason) => {
      this.countDisconnected(uid);
      void this.hooks.emit("userDisconnected", { uid, socket, reason, connectedAt, at: this.clock.now() });
      for (const feature of this.features) this.runHook(feature, "onDisconnect", () => feature.onDisconnect?.(socket, reason));
    });
    socket.emit("auth_success", {
      uid,
      roles,
      instanceId: this.instanceId,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      presenceTtlMs: this.config.presenceTtlMs,
      serverTime: this.clock.now(),
      protocolVersion: PROTOCOL_VERSION,
      ...welcomeExtras(socket),
    });
    void this.hooks.emit("userConnected", { uid, socket, at: this.clock.now() });
    // Started together; the socket's calls (defined once per gateway) reach it from here on.
    for (const feature of this.features) void this.runHook(feature, "onConnection", () => feature.onConnection?.(socket));
    this.calls.attach(socket);
  }

  /** Screens (connection budgets) → token → screens with the uid → every feature's `prepare`, bounded. */
  private async admission(socket: GatewaySocket, authenticate: ReturnType<typeof createAuthMiddleware>): Promise<void> {
    await this.screen(socket, "screenHandshake");
    await new Promise<void>((resolve, reject) => void authenticate(socket, (error) => (error ? reject(error) : resolve())));
    await this.screen(socket, "screen");
    // Fail closed (issue 12): a feature that cannot load what the socket needs refuses it (connect_error).
    // Bounded: a backend that never answers must not hold an admission slot (load shedding) forever.
    const ready = withTimeout(this.prepare(socket), this.config.storeTimeoutMs + 5_000, () => {
      this.metrics.connectionsRefused.inc({ reason: "PREPARE_TIMEOUT" });
      return new GatewayError("UNAVAILABLE", "Loading this connection's conversations and queue took too long; reconnect shortly.", {
        reason: "NOT_READY",
        retryAfterMs: this.config.shedRetryAfterMs,
      });
    });
    await ready.catch((refusal: GatewayError) => {
      for (const feature of this.features) this.runHook(feature, "abandon", () => feature.abandon?.(socket));
      throw refusal;
    });
  }

  /** One feature's screen after the other; a GatewayError refuses the socket (counted by its reason or code), other failures are logged. */
  private async screen(socket: GatewaySocket, stage: "screenHandshake" | "screen"): Promise<void> {
    for (const feature of this.features) {
      if (!feature[stage]) continue;
      try {
        await feature[stage]!(socket);
      } catch (error) {
        if (!(error instanceof GatewayError)) {
          this.logger.error("feature hook failed", { feature: feature.name, hook: stage, error: String(error) });
          continue;
        }
        this.metrics.connectionsRefused.inc({ reason: error.data.reason ?? error.code });
        if (stage === "screen") for (const other of this.features) this.runHook(other, "abandon", () => other.abandon?.(socket));
        throw error;
      }
    }
  }

  private countConnected(uid: string): void {
    const m = this.metrics;
    m.connectionsAdmitted.inc();
    const active = this.io.of("/").sockets.size;
    m.connectionsActive.set(active);
    if (active > this.peak) m.connectionsPeak.set((this.peak = active));
    this.socketsByUser.set(uid, (this.socketsByUser.get(uid) ?? 0) + 1);
  }

  private countDisconnected(uid: string): void {
    this.metrics.connectionsActive.set(this.io.of("/").sockets.size);
    const left = (this.socketsByUser.get(uid) ?? 1) - 1;
    if (left > 0) this.socketsByUser.set(uid, left);
    else this.socketsByUser.delete(uid);
  }

  /**
   * Every feature's `prepare`, together. A feature that throws a GatewayError (the offline queue when its
   * store does not answer) refuses the socket with that error, so it never connects deaf; any other
   * failure is logged and the socket is admitted.
   */
  private async prepare(socket: GatewaySocket): Promise<void> {
    const results = await Promise.allSettled(this.features.map((feature) => Promise.resolve().then(() => feature.prepare?.(socket))));
    let refusal: GatewayError | undefined;
    results.forEach((result, i) => {
      if (result.status === "fulfilled") return;
      const feature = this.features[i].name;
      if (result.reason instanceof GatewayError) refusal ??= result.reason;
      else this.logger.error("feature hook failed", { feature, hook: "prepare", error: String(result.reason) });
    });
    if (!refusal) return;
    this.metrics.connectionsRefused.inc({ reason: "PREPARE_FAILED" });
    this.logger.warn("connection refused: not ready", { uid: socket.data.uid, code: refusal.code, message: refusal.message });
    throw refusal;
  }

  private async runHook(feature: GatewayFeature, hook: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.logger.error("feature hook failed", { feature: feature.name, hook, error: String(error) });
    }
  }

  private waitForSocketsToLeave(timeoutMs: number): Promise<void> {
    const sockets = this.io.of("/").sockets;
    if (sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const deadline = setTimeout(done, timeoutMs);
      const poll = setInterval(() => sockets.size === 0 && done(), 50);
      function done() {
        clearTimeout(deadline);
        clearInterval(poll);
        resolve();
      }
    });
  }

  /**
   * Plain HTTP beside Socket.IO: `/healthz` for load balancers and Cloud Run; `/metrics` for Prometheus
   * (bearer `metricsToken`); `/stats`, `POST /stop` and `POST /broadcast` for the control plane of the
   * same host, answered only to a request presenting CONTROL_SECRET (403 when none is configured).
   */
  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url?.split("?")[0];
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url === "/healthz" || url === "/") {
      // A paused (fleet-drained) instance is up but answers 503, so load balancers send new clients elsewhere.
      const healthy = this.isAdmitting;
      return reply(healthy ? 200 : 503, { ok: healthy, state: this.state, admitting: healthy });
    }
    if (url === "/metrics" && req.method === "GET") return this.serveMetrics(req, res, reply);
    // --- control routes (issue 11): CONTROL_SECRET, never the source address; see control-auth.ts ---
    if ((url === "/stats" && req.method === "GET") || (url === "/stop" && req.method === "POST") || (url === "/broadcast" && req.method === "POST") || (url === "/sessions/end" && req.method === "POST")) {
      return this.serveControl(url, req, res, reply);
    }
    reply(404, { ok: false, error: new GatewayError("NOT_FOUND", `No route ${req.method} ${url}`).data });
  }

  /** The control plane of the same host (single-host mode), presenting CONTROL_SECRET. */
  private serveControl(url: string, req: IncomingMessage, res: ServerResponse, reply: (status: number, body: unknown) => void): void {
    const refused = controlRefusal(req, this.config.controlSecret);
    if (refused) {
      this.metrics.controlRefused.inc({ route: url });
      res.setHeader("connection", "close");
      reply(refused.status, { ok: false, error: refused.error.data });
      return void req.resume();
    }
    if (url === "/stats") {
      void this.stats().then((stats) => reply(200, stats), () => reply(500, { ok: false }));
      return;
    }
    if (url === "/stop") {
      reply(202, { ok: true, state: "stopping" });
      void this.stop("stopped");
      return;
    }
    readCappedJson(req)
      .then(async (body) => (url === "/sessions/end" ? { ended: this.endSessions(parseUid(body)) } : { delivered: await this.deliverBroadcast(parseRelayedBroadcast(body, this.clock.now())) }))
      .then(
        (answer) => reply(200, { ok: true, ...answer }),
        (error: unknown) => {
          const gatewayError = error instanceof GatewayError ? error : new GatewayError("INVALID_ARGUMENT", "expected a JSON broadcast");
          res.setHeader("connection", "close");
          reply(gatewayError.code === "PAYLOAD_TOO_LARGE" ? 413 : 400, { ok: false, error: gatewayError.data });
          if (gatewayError.code === "PAYLOAD_TOO_LARGE") res.once("finish", () => req.destroy());
        },
      );
  }

  /** Prometheus text for a scraper that presents `Authorization: Bearer <metricsToken>`; nobody else. */
  private serveMetrics(req: IncomingMessage, res: ServerResponse, reply: (status: number, body: unknown) => void): void {
    const expected = this.config.metricsToken;
    if (!expected) return reply(403, { ok: false, error: new GatewayError("PERMISSION_DENIED", "Metrics are off: set METRICS_TOKEN to enable GET /metrics.").data });
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!sameSecret(given, expected)) {
      res.setHeader("www-authenticate", 'Bearer realm="metrics"');
      return reply(401, { ok: false, error: new GatewayError("UNAUTHENTICATED", "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.").data });
    }
    // Refresh the gauges that are read on demand (connections, presence) so both readers agree.
    void this.stats()
      .then(() => this.metrics.render())
      .then(
        ({ contentType, body }) => {
          res.writeHead(200, { "content-type": contentType });
          res.end(body);
        },
        () => reply(500, { ok: false, error: new GatewayError("INTERNAL").data }),
      );
  }
}

export { sameSecret };

/** CORS (issue 11): none by default; `*` answers any origin without credentials; a list is allowed with credentials. */
function corsOf(origins: string[]): ServerOptions["cors"] {
  if (origins.length === 0) return undefined;
  if (origins.includes("*")) return { origin: "*", credentials: false };
  return { origin: origins, credentials: true };
}

/** What features' `prepare` loaded for `auth_success` (issue 15: the unread notification count). */
function welcomeExtras(socket: GatewaySocket): { unreadNotifications?: number } {
  const unread = socket.data.prepared?.unreadNotifications;
  return typeof unread === "number" ? { unreadNotifications: unread } : {};
}

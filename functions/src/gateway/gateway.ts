import { createServer, IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { Server, ServerOptions } from "socket.io";
import type { GatewayConfig } from "../config";
import { GatewayError } from "../errors";
import { EmergencyBroadcastPayload, PROTOCOL_VERSION } from "../protocol";
import { Clock, systemClock } from "../ports/clock";
import { Logger, silentLogger } from "../ports/logger";
import type { TokenVerifier } from "../ports/token-verifier/token-verifier";
import { createAuthMiddleware } from "./auth-middleware";
import { ConnectionStats } from "./connection-stats";
import { backpressureFeature } from "./backpressure";
import { heartbeatFeature } from "./heartbeat";
import { GatewayContext, GatewayFeature, GatewayServer, GatewayServices, GatewaySocket, userRoom } from "./types";

export interface GatewayDeps {
  verifier: TokenVerifier;
  logger?: Logger;
  clock?: Clock;
  /** Extra capabilities (messaging, presence ...), built from the gateway's context once the server exists. */
  features?: Array<(ctx: GatewayContext) => GatewayFeature>;
  /** Run after every socket is closed (Redis connections, store clients ...). */
  closers?: Array<() => Promise<unknown> | unknown>;
  /** Socket.IO adapter factory (the sharded Redis adapter when several instances share Redis). */
  adapter?: ServerOptions["adapter"];
  services?: GatewayServices;
}

export type GatewayState = "idle" | "running" | "stopping" | "stopped";

/** Listen backlog: the default 511 overflows with ~1,000 handshakes in flight (measured), and clients then wait 1 s. */
const LISTEN_BACKLOG = 4096;

/**
 * The Socket.IO messaging gateway. It knows nothing of Cloud Functions: a host (standalone process,
 * the `websocketServer` function, a test) builds it with a config and its ports, then calls start/stop.
 */
export class Gateway {
  readonly io: GatewayServer;
  readonly httpServer: HttpServer;
  readonly instanceId: string;
  /** What features offer each other and hosts (emergency broadcasts ...). */
  readonly services: GatewayServices;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly connections = new ConnectionStats();
  private readonly features: GatewayFeature[];
  private readonly closers: Array<() => Promise<unknown> | unknown>;
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
      cors: { origin: config.corsOrigins.includes("*") ? true : config.corsOrigins, credentials: true },
      ...(deps.adapter ? { adapter: deps.adapter } : {}),
    });
    const ctx: GatewayContext = {
      config,
      io: this.io,
      logger: this.logger,
      clock: this.clock,
      instanceId: this.instanceId,
      services: (this.services = deps.services ?? {}),
    };
    this.closers = deps.closers ?? [];
    this.features = [heartbeatFeature(ctx), backpressureFeature(ctx), ...(deps.features ?? []).map((build) => build(ctx))];
    this.io.use(
      createAuthMiddleware({
        verifier: deps.verifier,
        logger: this.logger,
        clock: this.clock,
        isAdmitting: () => this.state === "running" && this.admitting,
      }),
    );
    this.io.use((socket, next) => void this.prepare(socket).then(() => next()));
    this.io.engine.on("connection_error", () => this.connections.refusedOne());
    this.io.on("connection", (socket) => this.admit(socket));
  }

  get status(): GatewayState {
    return this.state;
  }

  /** Listens on the configured host and port (0 picks one) and resolves with the bound port. */
  async start(): Promise<number> {
    if (this.state === "running") return this.port;
    if (this.state !== "idle") throw new Error(`cannot start a gateway that is ${this.state}`);
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
    this.state = "stopped";
    this.logger.info("gateway stopped", { reason, tookMs: this.clock.now() - started });
  }

  // --- control: pause / resume (fleet drain) -----------------------------------------------------

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

  // -------------------------------------------------------------------------------------------------

  async stats() {
    const uptimeMs = this.state === "running" ? this.clock.now() - this.startedAt : 0;
    const connections = { ...this.connections.snapshot(), active: this.io.engine.clientsCount };
    const features: Record<string, unknown> = {};
    for (const feature of this.features) if (feature.stats) features[feature.name] = await feature.stats();
    return {
      instanceId: this.instanceId,
      state: this.state,
      admitting: this.isAdmitting,
      startedAt: this.startedAt || null,
      uptimeMs,
      protocolVersion: PROTOCOL_VERSION,
      connections,
      memory: process.memoryUsage(),
      ...features,
    };
  }

  private async admit(socket: GatewaySocket): Promise<void> {
    const { uid, roles } = socket.data;
    this.connections.connected(uid);
    socket.join(userRoom(uid));
    socket.on("disconnect", (reason) => {
      this.connections.disconnected(uid);
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
    });
    // Started together: each feature registers its handlers synchronously before its first await,
    // so no client event can arrive before its handler exists.
    const connecting = this.features.map((feature) => this.runHook(feature, "onConnection", () => feature.onConnection(socket)));
    socket.onAny((event: string, ...args: unknown[]) => this.refuseUnknownEvent(socket, event, args));
    await Promise.all(connecting);
  }

  private async prepare(socket: GatewaySocket): Promise<void> {
    socket.data.prepared = {};
    await Promise.all(this.features.map((feature) => this.runHook(feature, "prepare", () => feature.prepare?.(socket))));
  }

  private refuseUnknownEvent(socket: GatewaySocket, event: string, args: unknown[]): void {
    if (socket.listenerCount(event as never) > 0) return;
    const error = new GatewayError("INVALID_ARGUMENT", `Unknown event "${event}".`);
    this.logger.info("unknown event", { uid: socket.data.uid, event });
    const ack = args[args.length - 1];
    if (typeof ack === "function") ack({ ok: false, error: error.data });
    else socket.emit("error", error.data);
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
   * Plain HTTP beside Socket.IO: `/healthz` for load balancers and Cloud Run; `/stats` and `POST /stop`
   * for the control plane of the same host, answered on loopback only.
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
      return reply(healthy ? 200 : 503, { ok: healthy, state: this.state, admitting: healthy, instanceId: this.instanceId });
    }
    if (isLoopback(req.socket.remoteAddress)) {
      if (url === "/stats" && req.method === "GET") {
        void this.stats().then((stats) => reply(200, stats), () => reply(500, { ok: false }));
        return;
      }
      if (url === "/stop" && req.method === "POST") {
        reply(202, { ok: true, state: "stopping" });
        void this.stop("stopped");
        return;
      }
      // --- control: broadcast from a control plane in another worker of this host ---
      if (url === "/broadcast" && req.method === "POST") {
        readJson(req).then(
          (broadcast) => reply(200, { ok: true, delivered: this.services.broadcasts?.deliver(broadcast as EmergencyBroadcastPayload) ?? 0 }),
          () => reply(400, { ok: false, error: new GatewayError("INVALID_ARGUMENT", "expected a JSON broadcast").data }),
        );
        return;
      }
    }
    reply(404, { ok: false, error: new GatewayError("NOT_FOUND", `No route ${req.method} ${url}`).data });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      try {
        resolve(JSON.parse(body));
      } catch (error) {
        reject(error);
      }
    });
    req.on("error", reject);
  });
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127."));
}

import { request as httpRequest } from "node:http";
import { configFromEnv, GatewayConfig } from "../config";
import { createGateway } from "../gateway/create-gateway";
import type { Gateway } from "../gateway/gateway";
import type { Logger } from "../ports/logger";
import { PROTOCOL_VERSION } from "../protocol";

/**
 * Single-host mode: the gateway runs inside this process (the Functions emulator's worker, or one VM).
 * The emulator may serve a request from another worker process than the one holding the gateway, so
 * "port already in use" means "running" and figures come from the gateway's own loopback `/stats`.
 */
export class SingleHostGateway {
  private gateway?: Gateway;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv, logger: Logger): SingleHostGateway {
    // The Functions runtime owns PORT; the gateway takes GATEWAY_PORT / GATEWAY_HOST.
    const config = configFromEnv({ ...env, PORT: env.GATEWAY_PORT || "8081", HOST: env.GATEWAY_HOST || "127.0.0.1" });
    return new SingleHostGateway(config, logger);
  }

  get url(): string {
    return `http://${this.config.host}:${this.config.port}${this.config.path}`;
  }

  /** What a client needs to connect (served publicly by `getWebSocketInfo`). */
  connectionInfo(publicUrl?: string) {
    return {
      url: publicUrl || `http://${this.config.host}:${this.config.port}`,
      path: this.config.path,
      transports: this.config.transports,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      presenceTtlMs: this.config.presenceTtlMs,
      protocolVersion: PROTOCOL_VERSION,
      auth: "Firebase ID token in the Socket.IO handshake: io(url, { auth: { token } })",
    };
  }

  async start(): Promise<{ started: boolean; detail: string }> {
    if (this.gateway?.status === "running") return { started: false, detail: "already running in this process" };
    if (await this.remoteStats()) return { started: false, detail: "already running in another worker of this host" };
    this.gateway = createGateway(this.config, { logger: this.logger });
    try {
      await this.gateway.start();
    } catch (error) {
      this.gateway = undefined;
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return { started: false, detail: `port ${this.config.port} is in use` };
      throw error;
    }
    return { started: true, detail: `listening on ${this.url}` };
  }

  async stop(): Promise<{ stopped: boolean; detail: string }> {
    if (this.gateway?.status === "running") {
      await this.gateway.stop("stopped");
      this.gateway = undefined;
      return { stopped: true, detail: "stopped" };
    }
    if (await this.remoteStats()) {
      const answer = await loopbackRequest(this.config.port, "POST", "/stop");
      return { stopped: answer !== undefined, detail: "stopped in another worker of this host" };
    }
    return { stopped: false, detail: "not running" };
  }

  /** The running gateway's figures, from this process or over loopback; undefined when none runs. */
  async stats(): Promise<Record<string, unknown> | undefined> {
    if (this.gateway?.status === "running") return this.gateway.stats();
    return this.remoteStats();
  }

  private remoteStats(): Promise<Record<string, unknown> | undefined> {
    return loopbackRequest(this.config.port, "GET", "/stats");
  }
}

function loopbackRequest(port: number, method: string, path: string): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, timeout: 2_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

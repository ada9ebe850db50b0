import { request as httpRequest } from "node:http";
import { configFromEnv, GatewayConfig } from "../config";
import type { GatewayFigures } from "../gateway/figures";
import { createGateway } from "../gateway/create-gateway";
import type { Gateway } from "../gateway/gateway";
import { CONTROL_HEADER } from "../gateway/control-auth";
import type { Logger } from "../ports/logger";
import { EmergencyBroadcastPayload, PROTOCOL_VERSION } from "../protocol";
import type { GatewayHost, InstanceReport } from "./gateway-host";

/**
 * Single-host mode: the gateway runs inside this process (the Functions emulator's worker, or one VM).
 * The emulator may serve a request from another worker process than the one holding the gateway, so
 * "port already in use" means "running" and figures come from the gateway's own loopback `/stats`.
 */
export class SingleHostGateway implements GatewayHost {
  readonly mode = "single" as const;
  private gateway?: Gateway;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv, logger: Logger): SingleHostGateway {
    return new SingleHostGateway(configFromEnv(env, { host: "functions" }), logger);
  }

  get url(): string {
    return `http://${this.config.host}:${this.config.port}${this.config.path}`;
  }

  async start(): Promise<{ started: boolean; detail: string; url: string }> {
    const url = this.url;
    if (this.gateway?.status === "running") return { started: false, detail: "already running in this process", url };
    if (await this.remoteStats()) return { started: false, detail: "already running in another worker of this host", url };
    this.gateway = createGateway(this.config, { logger: this.logger });
    try {
      await this.gateway.start();
    } catch (error) {
      this.gateway = undefined;
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return { started: false, detail: `port ${this.config.port} is in use`, url };
      throw error;
    }
    return { started: true, detail: `listening on ${url}`, url };
  }

  async stop(): Promise<{ stopped: boolean; detail: string }> {
    if (this.gateway?.status === "running") {
      const sockets = this.gateway.io.of("/").sockets.size;
      await this.gateway.stop("stopped");
      this.gateway = undefined;
      return { stopped: true, detail: `stopped; ${sockets} client(s) told to reconnect later` };
    }
    if (await this.remoteStats()) {
      const answer = await loopbackRequest(this.config, "POST", "/stop");
      return { stopped: answer !== undefined, detail: "stopping in another worker of this host" };
    }
    return { stopped: false, detail: "not running" };
  }

  async instances(): Promise<InstanceReport[]> {
    const figures = await this.stats();
    if (!figures) return [];
    return [{ instanceId: String(figures.instanceId), stale: false, reportedAt: Date.now(), figures }];
  }

  async broadcast(broadcast: EmergencyBroadcastPayload): Promise<{ delivered: number; instances: number }> {
    if (this.gateway?.status === "running") return { delivered: await this.gateway.deliverBroadcast(broadcast), instances: 1 };
    const answer = await loopbackRequest(this.config, "POST", "/broadcast", broadcast);
    return answer ? { delivered: Number(answer.delivered ?? 0), instances: 1 } : { delivered: 0, instances: 0 };
  }

  async endSessions(uid: string): Promise<{ ended: number; instances: number }> {
    if (this.gateway?.status === "running") return { ended: this.gateway.endSessions(uid), instances: 1 };
    const answer = await loopbackRequest(this.config, "POST", "/sessions/end", { uid });
    return answer ? { ended: Number(answer.ended ?? 0), instances: 1 } : { ended: 0, instances: 0 };
  }

  async stopIfIdle(idleForMs: number): Promise<Record<string, unknown> | undefined> {
    const figures = await this.stats();
    const idleSince = figures?.activity?.idleSince;
    if (figures?.state !== "running" || figures.connections?.active !== 0 || typeof idleSince !== "number") return undefined;
    const idleMs = Date.now() - idleSince;
    if (idleMs < idleForMs) return undefined;
    return { idleMs, ...(await this.stop()) };
  }

  /** The running gateway's figures, from this process or over loopback; undefined when none runs. */
  async stats(): Promise<GatewayFigures | undefined> {
    if (this.gateway?.status === "running") return this.gateway.stats();
    return this.remoteStats();
  }

  private async remoteStats(): Promise<GatewayFigures | undefined> {
    return (await loopbackRequest(this.config, "GET", "/stats")) as GatewayFigures | undefined;
  }
}

export function connectionInfoOf(config: GatewayConfig, url: string) {
  return {
    url,
    path: config.path,
    transports: config.transports,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    presenceTtlMs: config.presenceTtlMs,
    protocolVersion: PROTOCOL_VERSION,
    auth: "Firebase ID token in the Socket.IO handshake: io(url, { auth: { token } })",
  };
}

/** A control route of the gateway in another worker of this host, presenting CONTROL_SECRET. */
function loopbackRequest(config: GatewayConfig, method: string, path: string, body?: unknown): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { [CONTROL_HEADER]: config.controlSecret, ...(body === undefined ? {} : { "content-type": "application/json" }) };
    const req = httpRequest({ host: "127.0.0.1", port: config.port, method, path, headers, timeout: 2_000 }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 || res.statusCode === 202 ? JSON.parse(text) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

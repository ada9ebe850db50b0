import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { CommandAck, FLEET_KEYS, FLEET_TIMING, FleetCommand, InstanceRecord } from "../gateway/fleet-protocol";
import type { EmergencyBroadcastPayload } from "../protocol";
import { GatewayError } from "../errors";
import { signEnvelope } from "../gateway/control-auth";
import type { GatewayHost, InstanceReport } from "./gateway-host";

export interface FleetHostOptions {
  redis: Redis;
  /** How long /stop waits for instances to drain (their SHUTDOWN_TIMEOUT_MS plus a margin). */
  drainTimeoutMs: number;
  /** How long /start and /emergency-broadcast wait for acks. */
  ackTimeoutMs?: number;
  staleAfterMs?: number;
  now?: () => number;
  /** CONTROL_SECRET: commands are signed with it; instances ignore unsigned ones. */
  controlSecret: string;
}

/**
 * Fleet mode, control side: standalone gateway instances (Cloud Run, VMs) registered in Redis are told
 * what to do through a Redis channel and answer with acks (see gateway/fleet-protocol.ts).
 */
export class FleetGatewayHost implements GatewayHost {
  readonly mode = "fleet" as const;
  private readonly now: () => number;

  constructor(private readonly options: FleetHostOptions) {
    this.now = options.now ?? Date.now;
  }

  async start() {
    const { receivers, acks } = await this.command({ id: randomUUID(), type: "admit" }, this.options.ackTimeoutMs ?? 5_000);
    return { instances: receivers, admitting: acks.filter((a) => a.ok).length, acks };
  }

  async stop() {
    const { receivers, acks } = await this.command({ id: randomUUID(), type: "drain" }, this.options.drainTimeoutMs);
    const disconnected = acks.reduce((n, a) => n + Number(a.detail.disconnected ?? 0), 0);
    return { instances: receivers, drained: acks.filter((a) => a.ok).length, disconnected, acks };
  }

  async broadcast(broadcast: EmergencyBroadcastPayload) {
    const { acks } = await this.command({ id: broadcast.id, type: "broadcast", broadcast }, this.options.ackTimeoutMs ?? 5_000);
    return { delivered: acks.reduce((n, a) => n + Number(a.detail.delivered ?? 0), 0), instances: acks.length };
  }

  async endSessions(uid: string) {
    const { acks } = await this.command({ id: randomUUID(), type: "end_sessions", uid }, this.options.ackTimeoutMs ?? 5_000);
    return { ended: acks.reduce((n, a) => n + Number(a.detail.ended ?? 0), 0), instances: acks.length };
  }

  /** Every registered instance; an id whose record expired is reported stale with no figures. */
  async instances(): Promise<InstanceReport[]> {
    const redis = this.options.redis;
    const ids = (await this.redisCall(() => redis.smembers(FLEET_KEYS.instances))).sort();
    if (ids.length === 0) return [];
    const records = await this.redisCall(() => redis.mget(ids.map(FLEET_KEYS.instance)));
    const staleAfter = this.options.staleAfterMs ?? FLEET_TIMING.staleAfterMs;
    return ids.map((instanceId, i) => {
      const record = parse(records[i]);
      if (!record) return { instanceId, stale: true, reportedAt: null, figures: null };
      return { instanceId, stale: this.now() - record.reportedAt > staleAfter, reportedAt: record.reportedAt, figures: { ...record.figures, address: record.address } };
    });
  }

  /** Drops registry entries whose record expired (instances that died without deregistering). */
  async forgetExpired(): Promise<string[]> {
    const gone = (await this.instances()).filter((i) => i.figures === null).map((i) => i.instanceId);
    if (gone.length) await this.options.redis.srem(FLEET_KEYS.instances, ...gone);
    return gone;
  }

  private async command(command: FleetCommand, timeoutMs: number): Promise<{ receivers: number; acks: CommandAck[] }> {
    const redis = this.options.redis;
    const receivers = await this.redisCall(() => redis.publish(FLEET_KEYS.channel, signEnvelope(JSON.stringify(command), this.options.controlSecret, this.now())));
    const deadline = this.now() + timeoutMs;
    let acks: CommandAck[] = [];
    while (receivers > 0) {
      acks = Object.values(await this.redisCall(() => redis.hgetall(FLEET_KEYS.ack(command.id)))).map((v) => JSON.parse(v) as CommandAck);
      if (acks.length >= receivers || this.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { receivers, acks };
  }

  private async redisCall<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new GatewayError("UNAVAILABLE", `Redis does not answer, so the fleet cannot be reached: ${(error as Error).message}`);
    }
  }
}

function parse(value: string | null): InstanceRecord | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as InstanceRecord;
  } catch {
    return undefined;
  }
}

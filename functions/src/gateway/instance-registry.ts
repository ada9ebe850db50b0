import type Redis from "ioredis";
import { valueOf } from "./metrics";
import { CommandAck, FLEET_KEYS, FLEET_TIMING, FleetCommand, InstanceRecord } from "./fleet-protocol";
import type { GatewayContext, GatewayFeature } from "./types";
import { FleetCommandVerifier } from "./fleet-commands";

export interface InstanceRegistryOptions {
  /** The gateway's command connection (fail fast). */
  redis: Redis;
  /** A connection of its own for SUBSCRIBE, queueing while Redis is down. */
  subscriber: Redis;
  timing?: Partial<typeof FLEET_TIMING>;
}

/**
 * Fleet mode, instance side: registers this instance in Redis with a TTL and its figures, and obeys
 * the control plane's commands (admit, drain, broadcast) for its own sockets. See fleet-protocol.ts.
 */
export function instanceRegistryFeature(options: InstanceRegistryOptions) {
  return (ctx: GatewayContext): GatewayFeature => {
    const timing = { ...FLEET_TIMING, ...options.timing };
    const { redis, subscriber } = options;
    const verified = new FleetCommandVerifier(ctx.config.controlSecret, () => ctx.clock.now());

    const publish = async () => {
      const gateway = ctx.gateway;
      if (gateway.status !== "running") return;
      const figures = await gateway.stats();
      const record: InstanceRecord = {
        instanceId: ctx.instanceId,
        address: ctx.config.publicUrl || `http://${ctx.config.host}:${gateway.port}`,
        startedAt: Number(figures.startedAt ?? 0),
        reportedAt: ctx.clock.now(),
        figures,
      };
      await redis.multi().set(FLEET_KEYS.instance(ctx.instanceId), JSON.stringify(record), "PX", timing.ttlMs).sadd(FLEET_KEYS.instances, ctx.instanceId).exec();
    };
    let published = false;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const refresh = async () => {
      try {
        await publish();
        published = ctx.gateway.status === "running";
      } catch (error) {
        ctx.logger.debug("instance registry refresh failed", { error: String(error) });
      }
    };
    // Until the gateway is listening and registered, look often; then every refreshMs.
    // A refresh already due sooner is kept, so a stream of connections cannot postpone it forever.
    let dueAt = Infinity;
    const schedule = (delayMs: number) => {
      const due = Date.now() + delayMs;
      if (stopped || due >= dueAt) return;
      clearTimeout(timer);
      dueAt = due;
      timer = setTimeout(() => {
        dueAt = Infinity;
        void refresh().then(() => schedule(published ? timing.refreshMs : 100));
      }, delayMs);
      timer.unref();
    };
    schedule(0);

    const obey = async (command: FleetCommand): Promise<Record<string, unknown>> => {
      const gateway = ctx.gateway;
      if (command.type === "admit") return { resumed: gateway.resume(), state: gateway.status };
      if (command.type === "drain") return { ...(await gateway.pause()), state: gateway.status };
      if (command.type === "end_sessions") return { ended: gateway.endSessions(String(command.uid)) };
      return { delivered: await gateway.deliverBroadcast(command.broadcast) };
    };
    const onMessage = (channel: string, message: string) => {
      if (channel !== FLEET_KEYS.channel) return;
      void handle(message);
    };
    const handle = async (message: string) => {
      let ack: CommandAck;
      const command = verified.open(message);
      if (!command) {
        ctx.metrics.fleetCommandsRejected.inc();
        return ctx.logger.warn("fleet command ignored: unsigned, badly signed, stale or replayed");
      }
      try {
        ack = { instanceId: ctx.instanceId, ok: true, detail: await obey(command) };
      } catch (error) {
        ack = { instanceId: ctx.instanceId, ok: false, detail: { error: String(error) } };
      }
      ctx.metrics.fleetCommands.inc();
      ctx.logger.info("fleet command", { command: command.type, id: command.id, ...ack });
      await refresh();
      const key = FLEET_KEYS.ack(command.id);
      await redis.multi().hset(key, ctx.instanceId, JSON.stringify(ack)).pexpire(key, timing.ackTtlMs).exec().catch(() => undefined);
    };
    subscriber.on("message", onMessage);
    void subscriber.subscribe(FLEET_KEYS.channel).catch((error) => ctx.logger.warn("fleet subscribe failed", { error: String(error) }));

    return {
      name: "fleet",
      // Connection counts change: report them soon rather than at the next refresh.
      onConnection: () => schedule(100),
      onDisconnect: () => schedule(100),
      async stop() {
        stopped = true;
        clearTimeout(timer);
        subscriber.off("message", onMessage);
        await subscriber.unsubscribe(FLEET_KEYS.channel).catch(() => undefined);
        await redis.multi().del(FLEET_KEYS.instance(ctx.instanceId)).srem(FLEET_KEYS.instances, ctx.instanceId).exec().catch(() => undefined);
      },
      figures: async () => ({ fleet: { commandsHandled: await valueOf(ctx.metrics.fleetCommands) } }),
    };
  };
}

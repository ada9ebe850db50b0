import type { Logger } from "../ports/logger";
import type { GatewayHost } from "./gateway-host";
import { summarizeInstance, totalOf } from "./status";

export interface KeepAliveOptions {
  host: GatewayHost & { forgetExpired?(): Promise<string[]> };
  logger: Logger;
  /** Stop a single-host gateway without clients for this long; 0 never stops it. */
  idleShutdownMs: number;
}

/**
 * One run of `keepWebSocketAlive`: checks every gateway instance, flags stale or expired figures,
 * writes one structured stats line, and stops an idle single-host gateway.
 */
export async function keepAliveTick(options: KeepAliveOptions) {
  try {
    return await check(options);
  } catch (error) {
    // Redis (fleet) unreachable: say so in the same structured line rather than failing the schedule.
    const reason = error instanceof Error ? error.message : String(error);
    const report = { mode: options.host.mode, healthy: false, total: totalOf([]), stale: [], unhealthy: [], forgotten: [], idleShutdown: null, error: reason };
    options.logger.error("keepWebSocketAlive", report);
    return report;
  }
}

async function check(options: KeepAliveOptions) {
  const { host, logger } = options;
  const instances = (await host.instances()).map(summarizeInstance);
  const stale = instances.filter((i) => i.stale).map((i) => i.instanceId);
  const unhealthy = instances.filter((i) => !i.stale && i.state !== "running").map((i) => i.instanceId);
  const forgotten = host.forgetExpired ? await host.forgetExpired() : [];
  const total = totalOf(instances);
  const healthy = total.running > 0 && stale.length === 0 && unhealthy.length === 0;

  let idleShutdown: Record<string, unknown> | undefined;
  if (options.idleShutdownMs > 0 && host.stopIfIdle) idleShutdown = await host.stopIfIdle(options.idleShutdownMs);

  const report = { mode: host.mode, healthy, total, stale, unhealthy, forgotten, idleShutdown: idleShutdown ?? null, error: null as string | null };
  logger.info("keepWebSocketAlive", report);
  for (const id of stale) logger.warn("gateway instance figures are stale", { instanceId: id });
  if (idleShutdown) logger.info("idle gateway stopped", idleShutdown);
  return report;
}

import type { InstanceReport } from "./gateway-host";

/**
 * The `/status` view of one instance's figures (Gateway.stats(), typed as GatewayFigures). Sections a
 * gateway does not report (an older version, a stale record) read as null.
 */
export function summarizeInstance(report: InstanceReport) {
  const f = report.figures;
  const connections = f?.connections;
  return {
    instanceId: report.instanceId,
    state: f?.state ?? "unknown",
    admitting: f?.admitting ?? null,
    stale: report.stale,
    reportedAt: report.reportedAt,
    startedAt: f?.startedAt ?? null,
    uptimeMs: f?.uptimeMs ?? 0,
    connections: {
      active: num(connections?.active),
      authenticated: num(connections?.authenticated),
      peak: num(connections?.peak),
      total: num(connections?.total),
      refused: num(connections?.refused),
    },
    uniqueUsers: num(connections?.uniqueUsers),
    presenceMode: f?.presence?.mode ?? null,
    messagesSent: f?.messaging?.messagesSent ?? null,
    messagesPerSecond: f?.messaging?.messagesPerSecond ?? null,
    deliverySuccessRate: f?.messaging?.deliverySuccessRate ?? null,
    errorsByCode: f?.messaging?.errorsByCode ?? {},
    idleSince: f?.activity?.idleSince ?? null,
    memory: f?.memory ? { rss: num(f.memory.rss), heapUsed: num(f.memory.heapUsed), heapTotal: num(f.memory.heapTotal) } : null,
  };
}

export type InstanceSummary = ReturnType<typeof summarizeInstance>;

/** Sums over live instances. A user connected to two instances counts on both (uniqueUsers is an upper bound). */
export function totalOf(instances: InstanceSummary[]) {
  const live = instances.filter((i) => !i.stale && i.state === "running");
  const sum = (pick: (i: InstanceSummary) => number) => live.reduce((acc, i) => acc + pick(i), 0);
  const errorsByCode: Record<string, number> = {};
  for (const i of live) for (const [code, n] of Object.entries(i.errorsByCode)) errorsByCode[code] = (errorsByCode[code] ?? 0) + n;
  const rates = live.map((i) => i.deliverySuccessRate).filter((r): r is number => typeof r === "number");
  return {
    instances: instances.length,
    running: live.length,
    connections: {
      active: sum((i) => i.connections.active),
      authenticated: sum((i) => i.connections.authenticated),
      peak: sum((i) => i.connections.peak),
      total: sum((i) => i.connections.total),
    },
    uniqueUsers: sum((i) => i.uniqueUsers),
    messagesPerSecond: sum((i) => i.messagesPerSecond ?? 0),
    deliverySuccessRate: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
    errorsByCode,
    memoryRss: sum((i) => i.memory?.rss ?? 0),
  };
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Arithmetic and formatting of the scale measurement (tools/scale.ts): reading CPU time from /proc and
 * Redis INFO, percentiles, the markdown report. Pure functions, unit-tested without timing.
 */

/** utime + stime of a /proc/<pid>/stat line, in clock ticks. The command name may hold spaces and parentheses. */
export function cpuTicksFromStat(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After ")": state is field 3, so utime (field 14) and stime (field 15) are at 11 and 12.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** `rchar` of /proc/<pid>/io: bytes the process read through read-like calls (its sockets included). */
export function readBytesFromIo(io: string): number {
  const value = /^rchar:\s*(\d+)/m.exec(io)?.[1];
  if (value === undefined) throw new Error("no rchar in /proc/<pid>/io");
  return Number(value);
}

/** Busy and total jiffies of the whole machine from the first line of /proc/stat. */
export function machineTicksFromProcStat(procStat: string): { busy: number; total: number } {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no cpu line in /proc/stat");
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = values[3] + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** `INFO` text as a map of field → value (every section). */
export function parseRedisInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    if (!line || line.startsWith("#")) continue;
    const at = line.indexOf(":");
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** used_cpu_sys + used_cpu_user in microseconds. */
export function redisCpuMicros(info: Map<string, string>): number {
  const sys = Number(info.get("used_cpu_sys"));
  const user = Number(info.get("used_cpu_user"));
  if (!Number.isFinite(sys) || !Number.isFinite(user)) throw new Error("INFO has no used_cpu_sys / used_cpu_user");
  return Math.round((sys + user) * 1e6);
}

export interface CommandStat {
  calls: number;
  usec: number;
}

/** `cmdstat_<name>:calls=..,usec=..` lines of INFO commandstats. */
export function commandStats(info: Map<string, string>): Map<string, CommandStat> {
  const stats = new Map<string, CommandStat>();
  for (const [key, value] of info) {
    if (!key.startsWith("cmdstat_")) continue;
    const calls = Number(/(?:^|,)calls=(\d+)/.exec(value)?.[1] ?? 0);
    const usec = Number(/(?:^|,)usec=(\d+)/.exec(value)?.[1] ?? 0);
    stats.set(key.slice("cmdstat_".length), { calls, usec });
  }
  return stats;
}

/** What each command added between two snapshots, busiest first. */
export function commandStatsDelta(before: Map<string, CommandStat>, after: Map<string, CommandStat>): Array<{ command: string } & CommandStat> {
  const delta: Array<{ command: string } & CommandStat> = [];
  for (const [command, a] of after) {
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) delta.push({ command, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return delta.sort((x, y) => y.usec - x.usec);
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Client index → instance and peer: clients are dealt round robin, and each sends to the next client. */
export function placement(users: number, instances: number): Array<{ instance: number; peer: number }> {
  return Array.from({ length: users }, (_, i) => ({ instance: i % instances, peer: (i + 1) % users }));
}

/** Splits `count` items into `parts` contiguous blocks as even as possible: [start, end) pairs. */
export function blocks(count: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 0; p < parts; p++) out.push([Math.floor((p * count) / parts), Math.floor(((p + 1) * count) / parts)]);
  return out;
}

// --- the report ---------------------------------------------------------------------------------

export interface InstanceResult {
  instance: number;
  pid: number;
  cpuMs: number;
  /** Share of one core over the window. */
  cpuPercent: number;
  /** Messages received by this instance's clients. */
  delivered: number;
  /** Sends acknowledged ok to this instance's clients. */
  sent: number;
  cpuMicrosPerDelivered: number;
  /** Bytes this instance read (client frames and Redis pub/sub and replies) per message delivered to its clients. */
  readBytesPerDelivered: number;
}

export interface PointResult {
  adapter: "sharded" | "classic";
  instances: number;
  targetRate: number;
  windowS: number;
  /** The fleet kept up: delivered at least 90% of the target rate and no send was skipped for backlog. */
  keptUp: boolean;
  perInstance: InstanceResult[];
  fleet: { cpuMs: number; delivered: number; cpuMicrosPerDelivered: number; deliveredPerS: number };
  redis: {
    cpuMs: number;
    cpuPercent: number;
    cpuMicrosPerDelivered: number;
    /** Bytes Redis sent (replies and pub/sub deliveries to every subscriber) per delivered message. */
    outBytesPerDelivered: number;
    /** Delivered msg/s at which Redis would use one full core, extrapolated linearly. */
    saturationRate: number;
    commands: Array<{ command: string } & CommandStat>;
  };
  latencyMs: { deliveryP50: number; deliveryP99: number; deliveryMax: number; ackP50: number; ackP99: number };
  generators: { cpuMs: number; skipped: number };
  machine: { busyPercent: number; ourPercent: number };
  loss: { sent: number; ackedOk: number; ackFailed: number; ackErrors: Record<string, number>; delivered: number; lost: number; duplicates: number };
}

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  os: string;
  loadAverage: number[];
}

export interface ScaleReport {
  machine: MachineInfo;
  settings: { users: number; generators: number; warmS: number; measureS: number; contentBytes: number; rateLimits: string };
  points: PointResult[];
  durationS: number;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");

/** Points measured with both adapters at the same N and rate: classic's cost relative to sharded's. */
export interface Comparison {
  instances: number;
  targetRate: number;
  fleetRatio: number;
  readRatio: number;
  redisRatio: number;
  redisOutRatio: number;
}

export function comparisons(points: PointResult[]): Comparison[] {
  const out: Comparison[] = [];
  const readPerMsg = (p: PointResult) => p.perInstance.reduce((s, i) => s + i.readBytesPerDelivered * i.delivered, 0) / Math.max(1, p.fleet.delivered);
  for (const sharded of points.filter((p) => p.adapter === "sharded")) {
    const classic = points.find((p) => p.adapter === "classic" && p.instances === sharded.instances && p.targetRate === sharded.targetRate);
    if (!classic) continue;
    out.push({
      instances: sharded.instances,
      targetRate: sharded.targetRate,
      fleetRatio: classic.fleet.cpuMicrosPerDelivered / sharded.fleet.cpuMicrosPerDelivered,
      readRatio: readPerMsg(classic) / readPerMsg(sharded),
      redisRatio: classic.redis.cpuMicrosPerDelivered / sharded.redis.cpuMicrosPerDelivered,
      redisOutRatio: classic.redis.outBytesPerDelivered / sharded.redis.outBytesPerDelivered,
    });
  }
  return out;
}

export function keptUp(targetRate: number, deliveredPerS: number, skipped: number): boolean {
  return deliveredPerS >= 0.9 * targetRate && skipped === 0;
}

export function markdownReport(report: ScaleReport): string {
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `# Scale measurement (${m.date})`,
    "",
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Redis ${m.redis}; load average at start ${m.loadAverage.map((l) => l.toFixed(2)).join(" ")}.`,
    `Load: ${s.users} users (real Auth-emulator ID tokens) dealt round robin over the instances, each sending direct text messages` +
      ` to the next user (on another instance whenever there are several), from ${s.generators} load-generator processes; ` +
      `${s.warmS} s warm-up then ${s.measureS} s measured per point; message store in memory; rate limits lifted. Total ${f0(report.durationS)} s.`,
    "",
    "Per instance: CPU (user+sys, /proc/<pid>/stat) over the window and bytes read from all its sockets (/proc/<pid>/io rchar), per message delivered to its clients. " +
      "Redis: CPU (INFO used_cpu_sys + used_cpu_user) and bytes sent (total_net_output_bytes) per delivered message.",
    "",
    "| adapter | N | target msg/s (per instance) | delivered msg/s (kept up?) | instance CPU % (each) | µs CPU / delivered msg (each instance) | fleet µs / msg | bytes read / msg (each instance) | Redis CPU % | Redis µs / msg | Redis bytes out / msg | one Redis core saturates at ≈ msg/s | p50 / p99 delivery ms | lost | machine busy % |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const p of report.points) {
    lines.push(
      `| ${p.adapter} | ${p.instances} | ${f0(p.targetRate)} (${f0(p.targetRate / p.instances)}) | ${f0(p.fleet.deliveredPerS)}${p.keptUp ? "" : " (fell behind)"} | ${p.perInstance.map((i) => f0(i.cpuPercent)).join(" / ")} | ` +
        `${p.perInstance.map((i) => f0(i.cpuMicrosPerDelivered)).join(" / ")} | ${f0(p.fleet.cpuMicrosPerDelivered)} | ` +
        `${p.perInstance.map((i) => f0(i.readBytesPerDelivered)).join(" / ")} | ${f1(p.redis.cpuPercent)} | ` +
        `${f1(p.redis.cpuMicrosPerDelivered)} | ${f0(p.redis.outBytesPerDelivered)} | ${f0(p.redis.saturationRate)} | ${f1(p.latencyMs.deliveryP50)} / ${f1(p.latencyMs.deliveryP99)} | ` +
        `${p.loss.lost} | ${f0(p.machine.busyPercent)} |`,
    );
  }
  const pairs = comparisons(report.points);
  if (pairs.length > 0) {
    lines.push("");
    lines.push("Classic ÷ sharded, same N and rate (per delivered message; CPU is noisy here, bytes are not):");
    lines.push("");
    for (const c of pairs) {
      lines.push(
        `- N=${c.instances}, ${f0(c.targetRate)} msg/s: instance CPU ×${c.fleetRatio.toFixed(2)}, instance bytes read ×${c.readRatio.toFixed(2)}, ` +
          `Redis CPU ×${c.redisRatio.toFixed(2)}, Redis bytes out ×${c.redisOutRatio.toFixed(2)}`,
      );
    }
  }
  lines.push("");
  lines.push("Redis commands per delivered message (calls; µs inside the command, INFO commandstats; socket writes are not in these):");
  lines.push("");
  for (const p of report.points) {
    const perMsg = p.redis.commands
      .slice(0, 6)
      .map((c) => `${c.command} ${(c.calls / Math.max(1, p.fleet.delivered)).toFixed(2)} (${(c.usec / Math.max(1, p.fleet.delivered)).toFixed(1)} µs)`)
      .join(", ");
    lines.push(`- ${p.adapter}, N=${p.instances}: ${perMsg}`);
  }
  lines.push("");
  lines.push(
    "Loss check per point (everything sent since the previous point, counted after a drain): " +
      report.points
        .map((p) => `${p.adapter} N=${p.instances}: ${p.loss.sent} sent, ${p.loss.ackedOk} acked, ${p.loss.ackFailed} failed, ${p.loss.delivered} delivered, ${p.loss.duplicates} duplicates`)
        .join("; ") +
      ".",
  );
  lines.push("");
  lines.push(
    "\"Machine busy %\" is the whole machine's busy share over the window; this run's own processes (gateways, Redis, generators) " +
      "account for " +
      report.points.map((p) => `${f0(p.machine.ourPercent)}%`).join(", ") +
      ". The rest is other work on the machine (on a shared machine CPU figures are noisy; compare shapes, not single values).",
  );
  return lines.join("\n") + "\n";
}

/**
 * The bench's output: one table of figures per target, each beside its target (met / missed), as
 * JSON and markdown, plus the details that explain them (ramp steps, GC pauses, profiles).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LatencySummary } from "./lib/histogram";
import { TargetName, TARGETS } from "./settings";
import type { BenchReport, TableRow, TargetResult, Verdict } from "./types";

const GATEWAYS: TargetName[] = ["gateway-memory", "gateway-firestore"];

export const num = (n: number | undefined, unit = ""): string => {
  if (n === undefined || !Number.isFinite(n)) return "n/a";
  const text = n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US");
  return unit ? `${text} ${unit}` : text;
};
const lat = (s: LatencySummary | undefined) => (s && s.count ? `${num(s.p50)} / ${num(s.p95)} / ${num(s.p99)}` : undefined);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined);
const ratioText = (r: number | undefined) => (r === undefined ? "" : `${r.toFixed(2)}×`);

interface Figure {
  figure: string;
  /** The comparable number of a target (for the ratio), and its text in the table. */
  value: (t: TargetResult) => { n?: number; text?: string; why?: string; lowerBound?: boolean };
  target: string;
  /** Verdict from the gateway's number and the bare relay's. */
  verdict?: (gateway: number, bare: number | undefined) => boolean | undefined;
  ratio?: boolean;
}

function whyMissing(t: TargetResult, part: "messaging" | "connect" | "presence" | "group"): string {
  if (part === "messaging" || part === "group") {
    if (!t.messaging.supported) return t.messaging.reason?.startsWith("messaging not merged") ? "n/a (messaging not merged)" : `n/a (${t.messaging.reason ?? "no messaging"})`;
    if (part === "group" && t.errors.some((e) => e.startsWith("group"))) return "failed (see notes)";
  }
  if (part === "presence") {
    if (t.name === "bare") return "— (no presence)";
    if (t.presence && !t.presence.supported) return t.presence.reason?.startsWith("presence not merged") ? "n/a (presence not merged)" : `n/a (${t.presence.reason})`;
  }
  const skipped = t.skipped.find((s) => s.toLowerCase().includes(part === "connect" ? "idle" : part));
  return skipped ? "skipped (time)" : "n/a";
}

function figures(report: BenchReport): Figure[] {
  const s = report.settings;
  const list: Figure[] = [];
  const clients = s.messagingClients;
  s.fixedRates.forEach((perClient, i) => {
    const total = perClient * clients;
    const isTargetLoad = total === 1000 || (i === 0 && !s.fixedRates.some((r) => r * clients === 1000));
    list.push({
      figure: `Direct message latency, ${clients.toLocaleString("en-US")} clients × ${perClient} msg/s (${total.toLocaleString("en-US")} msg/s): p50 / p95 / p99 ms`,
      value: (t) => {
        const load = t.fixed.find((f) => f.perClientRate === perClient);
        if (!load) {
          const skipped = t.skipped.find((x) => x.startsWith(`fixed load ${perClient} msg/s`));
          if (t.messaging.supported && skipped) return { why: /overloaded/.test(skipped) ? "skipped (overloaded at a lower load)" : "skipped (time)" };
          return { why: whyMissing(t, "messaging") };
        }
        const lossy = load.lost > 0 ? `, ${load.lost} lost` : "";
        return { n: load.latency.p99, text: `${lat(load.latency)}${lossy}` };
      },
      target: isTargetLoad ? "p99 ≤ 3× bare (bare ref. ≈1 ms at 1,000 msg/s)" : "— (reported)",
      verdict: isTargetLoad ? (g, b) => (b === undefined ? undefined : g <= 3 * b) : undefined,
      ratio: true,
    });
  });
  list.push({
    figure: `Highest sustained rate, p99 < ${s.p99LimitMs} ms and no loss (msg/s, ${clients.toLocaleString("en-US")} clients)`,
    value: (t) => {
      if (!t.maxRate) return { why: whyMissing(t, "messaging") };
      if (t.maxRate.steps.length === 0) return { why: t.maxRate.limitedBy === "time budget" ? "skipped (time)" : "not measured" };
      const capped = t.maxRate.lowestFailed === null;
      const int = (n: number) => Math.round(n).toLocaleString("en-US");
      if (t.maxRate.sustained === 0) return { n: 0, text: t.maxRate.lowestFailed ? `< ${int(t.maxRate.lowestFailed)}` : "n/a" };
      return { n: t.maxRate.sustained, text: `${capped ? "≥ " : ""}${int(t.maxRate.sustained)}`, lowerBound: capped };
    },
    target: "≥ 0.7× bare (bare ref. ≈20,000)",
    verdict: (g, b) => (b === undefined ? undefined : g >= 0.7 * b),
    ratio: true,
  });
  list.push({
    figure: `Group fan-out: one message to a ${s.groupMembers}-member group, last member reached: p50 / p95 / p99 ms`,
    value: (t) => {
      if (!t.group) return { why: whyMissing(t, "group") };
      const short = t.group.minDeliveries < t.group.expectedDeliveries ? ` (only ${t.group.minDeliveries}/${t.group.expectedDeliveries} reached)` : "";
      return { n: t.group.lastMember.p99, text: `${lat(t.group.lastMember)}${short}` };
    },
    target: "p99 ≤ 2× bare (bare ref. ≈12 ms)",
    verdict: (g, b) => (b === undefined ? undefined : g <= 2 * b),
    ratio: true,
  });
  list.push({
    figure: "Connect + authenticate rate (sockets/s, socket.io-client generator)",
    value: (t) => (t.connect ? { n: t.connect.ratePerSecond, text: `${num(t.connect.ratePerSecond)} (${t.connect.connections.toLocaleString("en-US")} sockets${t.connect.failed ? `, ${t.connect.failed} failed` : ""})` } : { why: whyMissing(t, "connect") }),
    target: "≥ 0.5× bare (bare ref. ≈2,500/s)",
    verdict: (g, b) => (b === undefined ? undefined : g >= 0.5 * b),
    ratio: true,
  });
  list.push({
    figure: "Server CPU per admission (ms) → admissions/s per server core",
    value: (t) =>
      t.connect && t.connect.serverCpuMsPerConnect > 0
        ? { n: 1000 / t.connect.serverCpuMsPerConnect, text: `${num(t.connect.serverCpuMsPerConnect)} → ${num(1000 / t.connect.serverCpuMsPerConnect)}/s` }
        : { why: whyMissing(t, "connect") },
    target: "— (reported; bare ref. ≈4,000/s per core)",
    ratio: true,
  });
  list.push({
    figure: "Server memory per idle authenticated socket (KB RSS; heap+external)",
    value: (t) =>
      t.memory
        ? { n: t.memory.rssPerSocketBytes / 1024, text: `${num(t.memory.rssPerSocketBytes / 1024)} (${num(t.memory.heapPerSocketBytes / 1024)}) at ${t.memory.connections.toLocaleString("en-US")}` }
        : { why: whyMissing(t, "connect") },
    target: "≤ 1.3× bare, at 15,000 sockets (bare ref. 13–16 KB)",
    verdict: (g, b) => (b === undefined ? undefined : g <= 1.3 * b),
    ratio: true,
  });
  list.push({
    figure: "Projected idle sockets per GiB of server memory",
    value: (t) => (t.memory ? { n: t.memory.projectedSocketsPerGiB, text: num(t.memory.projectedSocketsPerGiB) } : { why: whyMissing(t, "connect") }),
    target: "— (reported)",
    ratio: true,
  });
  list.push({
    figure: "Presence: clean disconnect → offline update at a subscriber: p50 / p95 / p99 ms",
    value: (t) => {
      if (!t.presence?.latency) return { why: whyMissing(t, "presence") };
      const timeouts = t.presence.timeouts ? `, ${t.presence.timeouts} never seen` : "";
      return { n: t.presence.timeouts ? Infinity : t.presence.latency.p99, text: `${lat(t.presence.latency)}${timeouts}` };
    },
    target: "p99 < 100 ms",
    verdict: (g) => g < 100,
  });
  return list;
}

export function buildTable(report: BenchReport): TableRow[] {
  const bare = report.targets.bare;
  return figures(report).map((f) => {
    const row: TableRow = { figure: f.figure, values: {}, ratios: {}, target: f.target, verdicts: {} };
    const bareValue = bare ? f.value(bare) : undefined;
    for (const name of TARGETS) {
      const t = report.targets[name];
      if (!t) continue;
      const v = f.value(t);
      row.values[name] = v.text ?? v.why ?? "n/a";
      if (name === "bare") continue;
      if (f.ratio) row.ratios[name] = ratioText(ratio(v.n, bareValue?.n));
      let verdict: Verdict = "n/a";
      if (f.verdict && v.n !== undefined) {
        // A bare figure that is only a lower bound (its ramp never failed) cannot judge "at least x times bare".
        const ok = bareValue?.lowerBound && f.figure.startsWith("Highest") ? undefined : f.verdict(v.n, bareValue?.n);
        verdict = ok === undefined ? "n/a" : ok ? "met" : "missed";
      }
      row.verdicts[name] = f.verdict ? verdict : undefined;
    }
    return row;
  });
}

const mdEscape = (s: string) => s.replace(/\|/g, "\\|");

export function tableMarkdown(report: BenchReport): string {
  const present = TARGETS.filter((t) => report.targets[t]);
  const gateways = GATEWAYS.filter((t) => report.targets[t]);
  const head = [
    "figure",
    ...present.map((t) => report.targets[t]!.label),
    ...gateways.map((t) => `${short(t)} / bare`),
    "target (gateway)",
    ...gateways.map((t) => short(t)),
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const row of report.table) {
    const cells = [
      row.figure,
      ...present.map((t) => row.values[t] ?? ""),
      ...gateways.map((t) => row.ratios[t] ?? ""),
      row.target,
      ...gateways.map((t) => row.verdicts[t] ?? "—"),
    ];
    lines.push(`| ${cells.map((c) => mdEscape(c)).join(" | ")} |`);
  }
  return lines.join("\n");
}

const short = (t: TargetName) => (t === "gateway-memory" ? "memory" : t === "gateway-firestore" ? "Firestore" : "bare");

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.platform} ${m.kernel}, Node ${m.node} (V8 ${m.v8}), socket.io ${m.socketIo}; open files ${m.openFilesLimit}; load average ${m.loadAverageStart.join(" ")} at start, ${m.loadAverageEnd.join(" ")} at end`;
}

export function toMarkdown(report: BenchReport): string {
  const s = report.settings;
  const out: string[] = [];
  out.push(`# TALOWA benchmark — ${report.date}`);
  out.push("");
  out.push(`- Machine: ${machineLine(report)}`);
  out.push(`- Code: commit ${report.git.commit} (${report.git.branch}${report.git.dirty ? ", uncommitted changes" : ""}); run took ${report.durationSeconds} s${report.complete ? "" : " (some parts did not run: see notes)"}`);
  out.push(
    `- Settings: load generator ${s.workers} processes (socket.io-client ${"websocket"}, own loopback source address each), ${s.messagingClients} messaging clients (one per user), ` +
      `${s.idleConnections.toLocaleString("en-US")} idle sockets (Firestore gateway: ${s.idleConnectionsFirestore > 0 ? s.idleConnectionsFirestore.toLocaleString("en-US") : "measured on its messaging clients"}; bounded to ${Math.round(s.idleShare * 100)}% of a target's time), ${s.connectConcurrency} handshakes in flight per worker, ` +
      `fixed loads ${s.fixedSeconds} s, ramp steps ${s.rampSeconds} s (×${s.rampFactor}, then bisection), ${s.contentBytes}-byte text messages; servers run with ${s.serverNodeFlags.join(" ")}; ` +
      `gateway: real Auth-emulator ID tokens, checkRevoked ${s.checkRevoked} (firebase-admin asks the Auth emulator about the user at every admission either way); Firestore ${s.firestore}; Redis ${s.redisUsed ? "for the Firestore gateway" : "not used"}${s.profile ? "; CPU profiling on (adds overhead)" : ""}`,
  );
  out.push("");
  out.push(tableMarkdown(report));
  out.push("");
  out.push("Targets are the issue's goals for the gateway with the in-memory store, measured against the bare relay of the same run; the Firestore column is judged against the same goals for information. A benchmark: nothing here fails CI.");
  const notes = [...report.notes];
  for (const name of TARGETS) {
    const t = report.targets[name];
    if (!t) continue;
    for (const n of t.serverNotes) notes.push(`${t.label}: ${n}`);
    for (const n of t.skipped) notes.push(`${t.label}: skipped ${n}`);
    for (const e of t.errors) notes.push(`${t.label}: error: ${e.split("\n")[0]}`);
    if (t.connect?.failed) notes.push(`${t.label}: ${t.connect.failed} connections failed: ${JSON.stringify(t.connect.errors)}`);
  }
  if (notes.length) {
    out.push("");
    out.push("## Notes");
    out.push("");
    for (const n of notes) out.push(`- ${n}`);
  }
  out.push("");
  out.push("## Details");
  for (const name of TARGETS) {
    const t = report.targets[name];
    if (!t) continue;
    out.push("");
    out.push(`### ${t.label}`);
    out.push("");
    if (t.connect) {
      out.push(
        `- Connect: ${t.connect.connections}/${t.connect.attempted} in ${t.connect.seconds} s = ${num(t.connect.ratePerSecond)}/s; handshake p50 ${num(t.connect.handshake.p50)} p99 ${num(t.connect.handshake.p99)} ms; ` +
          `server CPU ${t.connect.serverCpu} cores (${t.connect.serverCpuMsPerConnect} ms per admission)` +
          `${t.connect.authEmulatorCpu !== undefined ? `; Auth emulator ${t.connect.authEmulatorCpu} cores` : ""}; machine ${Math.round(t.connect.machineBusy * 100)}% busy; generator ${t.connect.generatorKBPerSocket} KB RSS per client socket`,
      );
    }
    if (t.memory) {
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
      out.push(`- Memory: RSS ${mb(t.memory.base.rss)} → ${mb(t.memory.loaded.rss)} with ${t.memory.connections} sockets; heap used ${mb(t.memory.base.heapUsed)} → ${mb(t.memory.loaded.heapUsed)} (after forced GC)`);
    }
    if (t.messaging.supported) out.push(`- Messaging probe: first send acked in ${num(t.messaging.probeMs)} ms`);
    const loads = [...t.fixed, ...(t.maxRate?.steps ?? [])];
    if (loads.length) {
      out.push("");
      const store = loads.some((l) => l.storeCpu !== undefined);
      out.push(`| load | msg/s asked | msg/s sent | p50 / p95 / p99 / max ms | ack p99 ms | lost | error acks | server CPU (cores) | ${store ? "Firestore emulator CPU | " : ""}machine busy | sustained |`);
      out.push(`|---|---|---|---|---|---|---|---|${store ? "---|" : ""}---|---|`);
      for (const l of loads) {
        const kind = t.fixed.includes(l) ? `fixed ${l.perClientRate}/s per client` : "ramp";
        const errors = Object.entries(l.ackErrors).map(([k, v]) => `${k} ${v}`).join(", ") || "0";
        out.push(
          `| ${kind} | ${num(l.targetRate)} | ${num(l.achievedRate)} | ${lat(l.latency) ?? "n/a"} / ${num(l.latency.max)} | ${num(l.ackLatency.p99)} | ${l.lost} | ${errors} | ${l.serverCpu} | ${store ? `${l.storeCpu ?? ""} | ` : ""}${Math.round(l.machineBusy * 100)}% | ${l.passed === undefined ? "" : l.passed ? "yes" : `no: ${mdEscape(l.why ?? "")}`} |`,
        );
      }
      if (t.maxRate?.limitedBy) out.push(`\nRamp stopped early: ${t.maxRate.limitedBy}.`);
    }
    if (t.group) out.push(`\n- Group: ${t.group.messages} messages to ${t.group.members} members; last member p50 ${num(t.group.lastMember.p50)} p99 ${num(t.group.lastMember.p99)} max ${num(t.group.lastMember.max)} ms; sender ack p99 ${num(t.group.ackLatency.p99)} ms`);
    if (t.presence?.latency) out.push(`- Presence: ${t.presence.samples} samples, p50 ${num(t.presence.latency.p50)} p99 ${num(t.presence.latency.p99)} ms, ${t.presence.timeouts} timeouts`);
    const phases = Object.entries(t.gc);
    if (phases.length) {
      out.push("");
      out.push("| phase (server GC, --trace-gc) | seconds | scavenges (ms) | mark-compacts (ms) | longest pause ms | share of wall time |");
      out.push("|---|---|---|---|---|---|");
      for (const [phase, g] of phases) {
        out.push(`| ${phase} | ${g.seconds} | ${g.scavenges} (${g.scavengeMs}) | ${g.majors} (${g.majorMs}) | ${g.maxPauseMs} | ${(g.pauseShare * 100).toFixed(1)}% |`);
      }
    }
    for (const [phase, p] of Object.entries(t.profiles)) {
      out.push("");
      out.push(`Where the server's time went during "${phase}" (CPU profile, ${num(p.totalMs / 1000)} s sampled):`);
      out.push("");
      if (p.byCause) out.push(`- by cause (node core and builtins charged to their caller): ${p.byCause.slice(0, 10).map((o) => `${o.origin} ${o.share}%`).join(", ")}`);
      out.push(`- by origin: ${p.byOrigin.slice(0, 8).map((o) => `${o.origin} ${o.share}%`).join(", ")}`);
      out.push(`- top functions (self time): ${p.topFunctions.slice(0, 8).map((f) => `${f.fn} (${f.where}) ${f.share}%`).join("; ")}`);
    }
  }
  return out.join("\n");
}

export function writeResults(dir: string, report: BenchReport, markdown: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "latest.json");
  const md = join(dir, "latest.md");
  writeFileSync(json, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(md, markdown + "\n");
  return [json, md];
}

const BEGIN = "<!-- bench:begin (written by npm run bench) -->";
const END = "<!-- bench:end -->";

/** Replaces the README's Benchmark section table (between the markers) with this run's. */
export function updateReadme(file: string, report: BenchReport): boolean {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return false;
  const body = [
    BEGIN,
    `Latest run: ${report.date.slice(0, 16).replace("T", " ")} UTC, commit ${report.git.commit}, ${report.durationSeconds} s. Machine: ${machineLine(report)}.`,
    "",
    tableMarkdown(report),
    "",
    "Full results, settings and details: [functions/bench/results/latest.md](functions/bench/results/latest.md) (JSON beside it).",
    END,
  ].join("\n");
  writeFileSync(file, text.slice(0, start) + body + text.slice(end + END.length));
  return true;
}

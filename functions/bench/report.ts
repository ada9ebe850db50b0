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
  /** The load the figure was measured at (the same for every target unless the value says otherwise). */
  load: string;
  /** The comparable number of a target (for the ratio), and its text in the table. */
  value: (t: TargetResult) => { n?: number; text?: string; why?: string; lowerBound?: boolean };
  target: string;
  /** Verdict from the gateway's number and the bare relay's. */
  verdict?: (gateway: number, reference: number | undefined) => boolean | undefined;
  ratio?: boolean;
  /** What a target is compared with (ratio and verdict): the bare relay unless this says otherwise. */
  referenceOf?: (target: TargetName) => TargetName;
  /** Only these targets get a verdict (the others: "—"). */
  judged?: TargetName[];
}

/** The Firestore target is judged against the memory store of the same run (issue 13), the memory store against bare. */
const firestoreAgainstMemory = (t: TargetName): TargetName => (t === "gateway-firestore" ? "gateway-memory" : "bare");

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
  // Which loads ran on an emptied Firestore emulator (the Firestore target's phases; see run.ts freshStore).
  const resets = report.targets["gateway-firestore"]?.storeResets?.filter((r) => r.done) ?? [];
  const emptied = resets.length ? "; Firestore: emulator emptied before it" : "";
  s.fixedRates.forEach((perClient, i) => {
    const total = perClient * clients;
    const isTargetLoad = total === 1000 || (i === 0 && !s.fixedRates.some((r) => r * clients === 1000));
    list.push({
      figure: `Direct message latency, ${clients.toLocaleString("en-US")} clients × ${perClient} msg/s (${total.toLocaleString("en-US")} msg/s): p50 / p95 / p99 ms`,
      load: `fixed ${total.toLocaleString("en-US")} msg/s for ${s.fixedSeconds} s${emptied}`,
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
  if (s.commonRate > 0) {
    list.push({
      figure: `Direct message latency at the common load, ${s.commonRate.toLocaleString("en-US")} msg/s over ${clients.toLocaleString("en-US")} clients (every target): p50 / p95 / p99 ms`,
      load: `common ${s.commonRate.toLocaleString("en-US")} msg/s for ${s.fixedSeconds} s, before the other loads${emptied}`,
      value: (t) => {
        if (!t.common) return { why: t.skipped.some((x) => x.startsWith("common load")) ? "skipped (time)" : whyMissing(t, "messaging") };
        const lossy = t.common.lost > 0 ? `, ${t.common.lost} lost` : "";
        const refused = Object.values(t.common.ackErrors).reduce((a, b) => a + b, 0);
        return { n: t.common.latency.p99, text: `${lat(t.common.latency)}${lossy}${refused ? `, ${refused} refused` : ""}` };
      },
      target: "— (reported)",
      ratio: true,
    });
  }
  list.push({
    figure: `Highest sustained rate, p99 < ${s.p99LimitMs} ms and no loss (msg/s, ${clients.toLocaleString("en-US")} clients)`,
    load: `ramp steps of ${s.rampSeconds} s (×${s.rampFactor}, then bisection)${emptied}`,
    value: (t) => {
      if (!t.maxRate) return { why: whyMissing(t, "messaging") };
      if (t.maxRate.steps.length === 0) return { why: t.maxRate.limitedBy === "time budget" ? "skipped (time)" : "not measured" };
      const capped = t.maxRate.lowestFailed === null;
      const int = (n: number) => Math.round(n).toLocaleString("en-US");
      if (t.maxRate.sustained === 0) return { n: 0, text: t.maxRate.lowestFailed ? `< ${int(t.maxRate.lowestFailed)}` : "n/a" };
      return { n: t.maxRate.sustained, text: `${capped ? "≥ " : ""}${int(t.maxRate.sustained)}`, lowerBound: capped };
    },
    target: "memory ≥ 0.7× bare; Firestore ≥ 0.5× memory",
    verdict: undefined,
    ratio: true,
    referenceOf: firestoreAgainstMemory,
  });
  // The verdict depends on the target: memory ≥ 0.7× bare, Firestore ≥ 0.5× memory.
  list[list.length - 1].verdict = (g, ref) => (ref === undefined ? undefined : g >= (currentTarget === "gateway-firestore" ? 0.5 : 0.7) * ref);
  const cpuLoad = s.commonRate > 0 ? `the common ${s.commonRate.toLocaleString("en-US")} msg/s load` : `the ${(s.fixedRates[0] * clients).toLocaleString("en-US")} msg/s fixed load`;
  list.push({
    figure: `Server CPU per delivered direct message (ms), at ${cpuLoad}`,
    load: `${cpuLoad.replace(/^the /, "")} (server process CPU ÷ messages delivered)`,
    value: (t) => {
      const load = s.commonRate > 0 ? t.common : t.fixed[0];
      return load?.cpuMsPerMessage !== undefined ? { n: load.cpuMsPerMessage, text: `${num(load.cpuMsPerMessage)} (${num(load.serverCpu)} cores)` } : { why: whyMissing(t, "messaging") };
    },
    target: "Firestore ≤ 3× memory",
    verdict: (g, ref) => (ref === undefined ? undefined : g <= 3 * ref),
    ratio: true,
    referenceOf: firestoreAgainstMemory,
    judged: ["gateway-firestore"],
  });
  list.push({
    figure: `Overload: ${s.overloadFactor}× the sustained rate for ${s.overloadSeconds} s: acked ack p99 ms; refused (UNAVAILABLE with retryAfterMs); acked but lost`,
    load: `${s.overloadFactor}× the target's own highest sustained rate (msg/s in the value)${emptied}`,
    value: (t) => {
      if (t.name === "bare") return { why: "— (no load shedding)" };
      const o = t.overload;
      if (!o) return { why: t.skipped.some((x) => x.startsWith("overload")) ? "skipped (time)" : whyMissing(t, "messaging") };
      const errors = Object.values(o.ackErrors).reduce((a, b) => a + b, 0);
      const ok = o.ackLatency.p99 < 500 && o.lost === 0 && errors === (o.refusedWithRetryAfter ?? 0);
      return { n: ok ? 1 : 0, text: `${num(o.targetRate)} msg/s: ack p99 ${num(o.ackLatency.p99)}; refused ${errors.toLocaleString("en-US")} (${(o.refusedWithRetryAfter ?? 0).toLocaleString("en-US")} with retryAfterMs) of ${o.sent.toLocaleString("en-US")}; lost ${o.lost}` };
    },
    target: "ack p99 < 500 ms, every refusal UNAVAILABLE + retryAfterMs, 0 lost",
    verdict: (g) => g === 1,
  });
  list.push({
    figure: `Reconnect storm: ${s.stormUsers.toLocaleString("en-US")} users with ${s.stormQueued} queued messages each reconnect at once: s until all admitted / all have their queue; refusals; retries; server CPU per admission`,
    load: `every user reconnects within 250 ms with the client library's backoff (exponential 250 ms–15 s, jittered, never before retryAfterMs; ${num(s.stormAttemptTimeoutMs / 1000)} s connect timeout), bounded to ${num(s.stormTimeoutMs / 1000)} s`,
    value: (t) => {
      if (t.name === "bare") return { why: "— (no queue)" };
      const st = t.storm;
      if (!st) return { why: t.skipped.some((x) => x.startsWith("reconnect storm")) ? "skipped (time)" : whyMissing(t, "messaging") };
      const all = st.complete === st.users;
      const errors = Object.values(st.errors).reduce((a, b) => a + b, 0);
      const int = (n: number) => n.toLocaleString("en-US");
      const bound = st.timeoutSeconds !== undefined ? ` in ${num(st.timeoutSeconds)} s` : "";
      return {
        n: all ? st.completeSeconds : Infinity,
        text:
          `${st.seeded.acked < st.seeded.sent ? `(only ${int(st.seeded.acked)} of ${int(st.seeded.sent)} messages queued in time) ` : ""}` +
          `${all ? `${num(st.admittedSeconds)} / ${num(st.completeSeconds)}` : `${int(st.admitted)} admitted, ${int(st.complete)} of ${int(st.users)} with their queue${bound}`}; ` +
          `${int(st.shed)} refused with retryAfterMs${errors ? `, ${int(errors)} failed attempts` : ""}; ${st.retries !== undefined ? `${int(st.retries)} retries; ` : ""}${num(st.serverCpuMsPerAdmission)} ms CPU per admission`,
      };
    },
    target: "Firestore within 2× memory",
    verdict: (g, ref) => (ref === undefined || !Number.isFinite(ref) ? undefined : g <= 2 * ref),
    ratio: true,
    referenceOf: firestoreAgainstMemory,
    judged: ["gateway-firestore"],
  });
  list.push({
    figure: `Group fan-out: one message to a ${s.groupMembers}-member group, last member reached: p50 / p95 / p99 ms`,
    load: `${s.groupMessages} messages from one sender, one every ${s.groupIntervalMs} ms${emptied}`,
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
    load: `idle sockets (count in the value), ${s.connectConcurrency} handshakes in flight per generator process${emptied ? ", on an emptied emulator" : ""}`,
    value: (t) => (t.connect ? { n: t.connect.ratePerSecond, text: `${num(t.connect.ratePerSecond)} (${t.connect.connections.toLocaleString("en-US")} sockets${t.connect.failed ? `, ${t.connect.failed} failed` : ""})` } : { why: whyMissing(t, "connect") }),
    target: "≥ 0.5× bare (bare ref. ≈2,500/s)",
    verdict: (g, b) => (b === undefined ? undefined : g >= 0.5 * b),
    ratio: true,
  });
  list.push({
    figure: "Server CPU per admission (ms) → admissions/s per server core",
    load: "the idle-socket connect phase (sockets in the value)",
    value: (t) =>
      t.connect && t.connect.serverCpuMsPerConnect > 0
        ? { n: 1000 / t.connect.serverCpuMsPerConnect, text: `${num(t.connect.serverCpuMsPerConnect)} → ${num(1000 / t.connect.serverCpuMsPerConnect)}/s (${t.connect.connections.toLocaleString("en-US")} sockets)` }
        : { why: whyMissing(t, "connect") },
    target: "Firestore ≤ 1.5× memory in CPU per admission (at 15,000 sockets)",
    ratio: true,
    referenceOf: firestoreAgainstMemory,
    // n is admissions per core: Firestore ≥ memory / 1.5 means CPU per admission ≤ 1.5× memory.
    verdict: (g, ref) => (ref === undefined ? undefined : g >= ref / 1.5),
    judged: ["gateway-firestore"],
  });
  list.push({
    figure: "Server memory per idle authenticated socket (KB RSS; heap+external)",
    load: "idle authenticated sockets after a forced GC (count in the value)",
    value: (t) =>
      t.memory
        ? { n: t.memory.rssPerSocketBytes / 1024, text: `${num(t.memory.rssPerSocketBytes / 1024)} (${num(t.memory.heapPerSocketBytes / 1024)}) at ${t.memory.connections.toLocaleString("en-US")}` }
        : { why: whyMissing(t, "connect") },
    target: "memory ≤ 1.3× bare, at 15,000 sockets (bare ref. 13–16 KB)",
    verdict: (g, b) => (b === undefined ? undefined : g <= 1.3 * b),
    ratio: true,
    judged: ["gateway-memory"],
  });
  list.push({
    figure: "Projected idle sockets per GiB of server memory",
    load: "from the row above",
    value: (t) => (t.memory ? { n: t.memory.projectedSocketsPerGiB, text: num(t.memory.projectedSocketsPerGiB) } : { why: whyMissing(t, "connect") }),
    target: "— (reported)",
    ratio: true,
  });
  list.push({
    figure: "Presence: clean disconnect → offline update at a subscriber: p50 / p95 / p99 ms",
    load: `${s.presenceRepeats} disconnects, ${clients.toLocaleString("en-US")} messaging clients connected and quiet`,
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

/** The target a figure's verdict is being computed for (the sustained-rate goal differs by target). */
let currentTarget: TargetName = "bare";

export function buildTable(report: BenchReport): TableRow[] {
  return figures(report).map((f) => {
    const row: TableRow = { figure: f.figure, load: f.load, values: {}, ratios: {}, target: f.target, verdicts: {} };
    for (const name of TARGETS) {
      const t = report.targets[name];
      if (!t) continue;
      const v = f.value(t);
      row.values[name] = v.text ?? v.why ?? "n/a";
      if (name === "bare") continue;
      const refName = f.referenceOf?.(name) ?? "bare";
      const refTarget = report.targets[refName];
      const refValue = refTarget ? f.value(refTarget) : undefined;
      if (f.ratio) {
        const r = ratioText(ratio(v.n, refValue?.n));
        row.ratios[name] = r && refName !== "bare" ? `${r} memory` : r;
      }
      if (f.judged && !f.judged.includes(name)) {
        row.verdicts[name] = undefined;
        continue;
      }
      let verdict: Verdict = "n/a";
      if (f.verdict && v.n !== undefined) {
        currentTarget = name;
        // A reference that is only a lower bound (its ramp never failed) cannot judge "at least x times it".
        const ok = refValue?.lowerBound && f.figure.startsWith("Highest") ? undefined : f.verdict(v.n, refValue?.n);
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
    "measured at",
    ...present.map((t) => report.targets[t]!.label),
    ...gateways.map((t) => `${short(t)} / bare`),
    "target (gateway)",
    ...gateways.map((t) => short(t)),
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const row of report.table) {
    const cells = [
      row.figure,
      row.load ?? "",
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
      `${s.idleConnections.toLocaleString("en-US")} idle sockets (Firestore gateway: ${s.idleConnectionsFirestore > 0 ? s.idleConnectionsFirestore.toLocaleString("en-US") : "measured on its messaging clients"}; bounded to ${Math.round(s.idleShare * 100)}% of a target's time, Firestore ${Math.round((s.idleShareFirestore ?? s.idleShare) * 100)}%), ${s.connectConcurrency} handshakes in flight per worker, ` +
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
    const note = resetNote(t);
    if (note) notes.push(`${t.label}: ${note}`);
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
    const loads = [...(t.common ? [t.common] : []), ...t.fixed, ...(t.maxRate?.steps ?? []), ...(t.overload ? [t.overload] : [])];
    if (loads.length) {
      out.push("");
      const store = loads.some((l) => l.storeCpu !== undefined);
      out.push(`| load | msg/s asked | msg/s sent | p50 / p95 / p99 / max ms | ack p99 ms | lost | error acks | server CPU (cores) | CPU ms / delivered msg | ${store ? "Firestore emulator CPU | " : ""}machine busy | sustained |`);
      out.push(`|---|---|---|---|---|---|---|---|---|${store ? "---|" : ""}---|---|`);
      for (const l of loads) {
        const kind = l === t.common ? "common (every target)" : t.fixed.includes(l) ? `fixed ${l.perClientRate}/s per client` : l === t.overload ? "overload" : "ramp";
        const errors = Object.entries(l.ackErrors).map(([k, v]) => `${k} ${v}`).join(", ") || "0";
        out.push(
          `| ${kind} | ${num(l.targetRate)} | ${num(l.achievedRate)} | ${lat(l.latency) ?? "n/a"} / ${num(l.latency.max)} | ${num(l.ackLatency.p99)} | ${l.lost} | ${errors} | ${l.serverCpu} | ${num(l.cpuMsPerMessage)} | ${store ? `${l.storeCpu ?? ""} | ` : ""}${Math.round(l.machineBusy * 100)}% | ${l.passed === undefined ? "" : l.passed ? "yes" : `no: ${mdEscape(l.why ?? "")}`} |`,
        );
      }
      if (t.maxRate?.limitedBy) out.push(`\nRamp stopped early: ${t.maxRate.limitedBy}.`);
    }
    if (t.group) out.push(`\n- Group: ${t.group.messages} messages to ${t.group.members} members; last member p50 ${num(t.group.lastMember.p50)} p99 ${num(t.group.lastMember.p99)} max ${num(t.group.lastMember.max)} ms; sender ack p99 ${num(t.group.ackLatency.p99)} ms`);
    if (t.storm) {
      const st = t.storm;
      const int = (n: number | undefined) => (n ?? 0).toLocaleString("en-US");
      const cores = (label: string, n: number | undefined) => (n === undefined ? "" : `, ${label} ${n}`);
      out.push(
        `- Reconnect storm: ${int(st.seeded.acked)} messages queued for ${int(st.users)} offline users in ${st.seeded.seconds} s; then every user reconnected at once with the client library's backoff (bounded to ${num(st.timeoutSeconds)} s): ` +
          `${int(st.admitted)} admitted in ${num(st.admittedSeconds)} s (per user p50 ${num(st.admittedAt.p50)} p99 ${num(st.admittedAt.p99)} ms), ${int(st.complete)} with their whole queue in ${num(st.completeSeconds)} s (p50 ${num(st.completeAt.p50)} p99 ${num(st.completeAt.p99)} ms)${st.gaveUp ? `, ${int(st.gaveUp)} still waiting at the bound` : ""}; ` +
          `${int(st.attempts)} attempts (${int(st.retries)} retries): ${int(st.shed)} refusals with retryAfterMs, failed attempts ${JSON.stringify(st.errors)}; ` +
          `CPU cores: server ${st.serverCpu}${cores("load generator", st.generatorCpu)}${cores("Auth emulator", st.authEmulatorCpu)}${cores("Firestore emulator", st.storeCpu)}${st.machineBusy !== undefined ? `; machine ${Math.round(st.machineBusy * 100)}% busy` : ""}; ${num(st.serverCpuMsPerAdmission)} ms server CPU per admission`,
      );
    }
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

/** When the Firestore emulator was emptied, and what it held then (it slows down as it fills: bench/servers/firestore-host.ts). */
export function resetNote(t: TargetResult): string | undefined {
  const resets = t.storeResets ?? [];
  if (!resets.length) return undefined;
  if (resets.every((r) => !r.done)) return "the Firestore emulator was external and not reset: later phases ran on what earlier ones stored";
  const kept = [...new Set(resets.flatMap((r) => r.keep))];
  const list = resets.map((r) => `${r.phase} (held ${Number.isFinite(r.documentsBefore) ? r.documentsBefore.toLocaleString("en-US") : "?"} documents${r.kept ? `, ${r.kept.toLocaleString("en-US")} kept` : ""})`);
  return (
    `the Firestore emulator was emptied before each phase that needs nothing stored earlier: ${list.join(", ")}` +
    (kept.length ? `; a reset keeps the top-level ${kept.join(" and ")} documents (the directory the gateway has cached), nothing else` : "") +
    (t.storm ? "; the reconnect storm runs on what its seeding stored (the queues it measures), so it is not reset between the two" : "")
  );
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

/**
 * Reads the `--trace-gc` lines a server prints and sums its collector pauses per bench phase, e.g.
 *   [123:0x5f..]     5012 ms: Scavenge 40.1 (52.3) -> 38.2 (53.1) MB, 1.25 / 0.00 ms  (average mu = ...) allocation failure;
 *   [123:0x5f..]     6020 ms: Mark-Compact 120.5 (140.2) -> 90.1 (130.0) MB, 35.10 / 0.00 ms  (+ 12.0 ms in 80 steps ...) ...
 * Collections we forced ourselves (`gc()` before a memory reading: reason "testing") are left out.
 */
const LINE = /\d+ ms: (Scavenge|Minor Mark-Compact|Minor Mark-Sweep|Mark-Compact(?: \(reduce\))?|Mark-Sweep(?: \(reduce\))?)\b.*?MB, ([\d.]+) \/ ([\d.]+) ms/;

export interface GcSummary {
  seconds: number;
  scavenges: number;
  scavengeMs: number;
  majors: number;
  majorMs: number;
  maxPauseMs: number;
  /** Share of the phase's wall time spent in GC pauses on the main thread. */
  pauseShare: number;
}

export class GcTrace {
  private phase = "";
  private phaseStart = 0;
  private current = GcTrace.empty();
  readonly phases: Record<string, GcSummary> = {};

  private static empty(): Omit<GcSummary, "seconds" | "pauseShare"> {
    return { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0, maxPauseMs: 0 };
  }

  /** Feed each stdout line of the server. Returns false for lines that are not GC traces. */
  line(text: string): boolean {
    const m = LINE.exec(text);
    if (!m) return false;
    if (/testing/.test(text) || !this.phase) return true;
    const pause = Number(m[2]);
    if (m[1] === "Scavenge" || m[1].startsWith("Minor")) {
      this.current.scavenges += 1;
      this.current.scavengeMs += pause;
    } else {
      this.current.majors += 1;
      this.current.majorMs += pause;
    }
    this.current.maxPauseMs = Math.max(this.current.maxPauseMs, pause);
    return true;
  }

  begin(phase: string): void {
    this.end();
    this.phase = phase;
    this.phaseStart = performance.now();
    this.current = GcTrace.empty();
  }

  end(): void {
    if (!this.phase) return;
    const seconds = (performance.now() - this.phaseStart) / 1000;
    const c = this.current;
    this.phases[this.phase] = {
      seconds: round(seconds, 2),
      scavenges: c.scavenges,
      scavengeMs: round(c.scavengeMs, 1),
      majors: c.majors,
      majorMs: round(c.majorMs, 1),
      maxPauseMs: round(c.maxPauseMs, 1),
      pauseShare: seconds > 0 ? round((c.scavengeMs + c.majorMs) / (seconds * 1000), 4) : 0,
    };
    this.phase = "";
  }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

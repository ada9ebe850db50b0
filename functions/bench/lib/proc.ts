/** CPU accounting from /proc (Linux): a process's CPU seconds, and how busy the whole machine is. */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds, or NaN when it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

export interface MachineSample {
  busy: number;
  total: number;
}

export function machineSample(): MachineSample | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Share of all cores busy between two samples (0..1), by every process on the machine. */
export function machineBusy(from: MachineSample | undefined, to: MachineSample | undefined): number {
  if (!from || !to || to.total <= from.total) return NaN;
  return Math.round(((to.busy - from.busy) / (to.total - from.total)) * 100) / 100;
}

/** PIDs of this process's direct children (Linux), i.e. processes this run started itself. */
export function ownChildren(): number[] {
  try {
    return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Last resort on interruption: ends every child this process started (some may still be starting and
 * not yet handed to their owners), each by its PID and process group: SIGTERM, then SIGKILL.
 */
export async function endOwnChildren(graceMs = 3_000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  const first = ownChildren();
  for (const pid of first) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && ownChildren().length > 0) await new Promise((r) => setTimeout(r, 100));
  for (const pid of ownChildren()) signal(pid, "SIGKILL");
}

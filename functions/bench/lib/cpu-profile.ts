/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the server's time went, by function
 * (self time) and by origin (our gateway code, socket.io/engine.io/ws, firebase, node internals, GC, idle).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  byOrigin: Array<{ origin: string; ms: number; share: number }>;
  /**
   * Self time charged to the nearest caller that is a package or our code: node core and builtins
   * (writev, writeUtf8String, microtasks ...) count for whoever called them, so "firebase-admin/gRPC",
   * "ioredis", "socket.io stack" and "our code" add up to what each really costs. GC and idle stay apart.
   */
  byCause: Array<{ origin: string; ms: number; share: number }>;
  topFunctions: Array<{ fn: string; where: string; ms: number; share: number }>;
}

export function originOf(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "garbage collector";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "V8/native (program)";
  if (!url) return "native / builtins";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) {
    const name = pkg[1];
    if (/^(socket\.io|socket\.io-adapter|socket\.io-parser|engine\.io|ws|@socket\.io\/.*)$/.test(name)) return `socket.io stack (${name})`;
    return `package ${name}`;
  }
  if (url.startsWith("node:") || !url.includes("/")) return "node core";
  const src = /\/functions\/(?:\.bench-build\/)?(src|bench)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2].split("/").slice(0, -1).join("/") || "."}`;
  return "other";
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const selfMs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
      selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + delta);
    }
  } else {
    const interval = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of profile.nodes) selfMs.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const origins = new Map<string, number>();
  const causes = new Map<string, number>();
  const causeOf = (id: number): string => {
    const own = byId.get(id)!;
    const first = originOf(own.callFrame.url, own.callFrame.functionName || "(anonymous)");
    if (!LOW_LEVEL.has(first)) return groupCause(first);
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const origin = originOf(frame.url, frame.functionName || "(anonymous)");
      if (!LOW_LEVEL.has(origin)) return groupCause(origin);
    }
    return "node core / builtins (no caller of ours or a package's)";
  };
  const fns = new Map<string, { fn: string; where: string; ms: number }>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || "(anonymous)";
    const origin = originOf(url, fn);
    origins.set(origin, (origins.get(origin) ?? 0) + ms);
    const cause = causeOf(id);
    causes.set(cause, (causes.get(cause) ?? 0) + ms);
    const where = url ? `${url.replace(/^.*\/(node_modules|functions)\//, "")}:${lineNumber + 1}` : "";
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, ms: 0 };
    e.ms += ms;
    fns.set(key, e);
  }
  const share = (ms: number) => Math.round((ms / Math.max(1, totalMs)) * 1000) / 10;
  return {
    file,
    totalMs: Math.round(totalMs),
    byOrigin: [...origins]
      .map(([origin, ms]) => ({ origin, ms: Math.round(ms), share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
    byCause: [...causes]
      .map(([origin, ms]) => ({ origin, ms: Math.round(ms), share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
    topFunctions: [...fns.values()]
      .filter((f) => f.fn !== "(idle)")
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, ms: Math.round(f.ms), share: share(f.ms) })),
  };
}

/** Origins that do work for someone else: their time is charged to the nearest caller above them. */
const LOW_LEVEL = new Set(["native / builtins", "node core", "other", "V8/native (program)"]);

/** Groups packages into the systems the report talks about. */
export function groupCause(origin: string): string {
  if (/^package (firebase-admin|@google-cloud\/.*|@grpc\/.*|google-gax|protobufjs|@protobufjs\/.*|google-auth-library|gaxios|gtoken|jws|jwa|jsonwebtoken|jwks-rsa|node-fetch|long|retry-request|teeny-request|http-proxy-agent|https-proxy-agent|agent-base)$/.test(origin)) return "firebase-admin / Firestore / gRPC";
  if (/^package (ioredis|redis-parser|denque|cluster-key-slot|standard-as-callback|@ioredis\/.*)$/.test(origin)) return "ioredis";
  if (origin.startsWith("socket.io stack")) return "socket.io / engine.io / ws";
  if (/^package (notepack\.io|@msgpack\/.*)$/.test(origin)) return "socket.io / engine.io / ws";
  if (/^src\//.test(origin)) return `our code (${origin})`;
  if (/^bench\//.test(origin)) return `bench harness (${origin})`;
  return origin;
}

import type { GatewayFigures } from "../gateway/figures";
import type { EmergencyBroadcastPayload } from "../protocol";

/** One gateway instance as `/status` reports it. */
export interface InstanceReport {
  instanceId: string;
  /** Figures older than the fleet's stale bound, or a registry entry whose record expired. */
  stale: boolean;
  reportedAt: number | null;
  /** The instance's own figures (the address it reported added); null when its record expired. */
  figures: (GatewayFigures & { address?: string }) | null;
}

/**
 * What the control plane drives: a gateway in this process (single host) or a fleet of standalone
 * instances reached through Redis. Every call is idempotent and reports what it did.
 */
export interface GatewayHost {
  readonly mode: "single" | "fleet";
  start(): Promise<Record<string, unknown>>;
  stop(): Promise<Record<string, unknown>>;
  instances(): Promise<InstanceReport[]>;
  /** Live delivery of a broadcast already stored; resolves with how many sockets it reached. */
  broadcast(broadcast: EmergencyBroadcastPayload): Promise<{ delivered: number; instances: number }>;
  /** Admin kick: ends every session of `uid` on every instance; resolves with how many sockets. */
  endSessions(uid: string): Promise<{ ended: number; instances: number }>;
  /** Single host: stop when idle. Fleet: Cloud Run (or the orchestrator) scales instances itself. */
  stopIfIdle?(idleForMs: number): Promise<Record<string, unknown> | undefined>;
}

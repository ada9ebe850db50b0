import type { EmergencyBroadcastPayload } from "../protocol";
import type { GatewayFigures } from "./figures";

/**
 * How the control plane and gateway instances talk through Redis (fleet mode):
 * - each instance keeps `talowa:instance:{id}` (JSON InstanceRecord, TTL) fresh and is listed in the
 *   set `talowa:instances`; a listed id whose key expired is an instance that died without leaving;
 * - commands are published on `talowa:control`; every instance acts on its own sockets and answers in
 *   the hash `talowa:control:ack:{commandId}` (field = instance id), which the control plane polls.
 */
export const FLEET_KEYS = {
  instances: "talowa:instances",
  instance: (id: string) => `talowa:instance:${id}`,
  channel: "talowa:control",
  ack: (commandId: string) => `talowa:control:ack:${commandId}`,
};

export const FLEET_TIMING = {
  /** How often an instance refreshes its record. */
  refreshMs: 5_000,
  /** Its record expires this long after the last refresh. */
  ttlMs: 30_000,
  /** Figures older than this are flagged stale by `/status` and `keepWebSocketAlive`. */
  staleAfterMs: 15_000,
  /** How long acks are kept. */
  ackTtlMs: 120_000,
};

export type FleetCommand =
  | { id: string; type: "admit" }
  | { id: string; type: "drain" }
  | { id: string; type: "broadcast"; broadcast: EmergencyBroadcastPayload }
  | { id: string; type: "end_sessions"; uid: string };

export interface CommandAck {
  instanceId: string;
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface InstanceRecord {
  instanceId: string;
  /** Where clients reach it, as the instance knows it (GATEWAY_PUBLIC_URL or host:port). */
  address: string;
  startedAt: number;
  reportedAt: number;
  /** Gateway.stats() at reportedAt. */
  figures: GatewayFigures;
}

import type { PresenceCounts, PresenceMode } from "../ports/presence-store/presence-store";
import type { GatewayState } from "./socket";

/** Figures of the messaging features (`sending` reads them from the metrics). */
export interface MessagingFigures {
  messagesSent: number;
  duplicateSends: number;
  offlineQueued: number;
  messagesPerSecond: number;
  deliveriesConfirmed: number;
  deliverySuccessRate: number | null;
  errorsByCode: Record<string, number>;
}

export interface PresenceFigures extends PresenceCounts {
  mode: PresenceMode;
  localConnections: number;
  lastSweepAt: number | null;
}

/** The sections features add to the figures, each under its own name. */
export interface FeatureFigures {
  messaging: MessagingFigures;
  presence: PresenceFigures;
  activity: { idleSince: number | null; lastConnectionAt: number | null };
  broadcasts: { replayed: number; deliveredLive: number };
  backpressure: { slowClientsDisconnected: number };
  fleet: { commandsHandled: number };
}

/** A feature that reports figures. */
export interface ReportsFigures {
  figures(): Partial<FeatureFigures> | Promise<Partial<FeatureFigures>>;
}

/** One instance's figures: `/status` (through the fleet registry or loopback) and `/metrics` read the same. */
export interface GatewayFigures extends Partial<FeatureFigures> {
  instanceId: string;
  state: GatewayState;
  admitting: boolean;
  startedAt: number | null;
  uptimeMs: number;
  protocolVersion: number;
  connections: { active: number; authenticated: number; peak: number; total: number; refused: number; uniqueUsers: number };
  memory: NodeJS.MemoryUsage;
  /** Load shedding: work in flight now, and refusals since start by kind (store, admission). */
  load?: { storeOps: number; admissions: number; refused: Record<string, number> };
}

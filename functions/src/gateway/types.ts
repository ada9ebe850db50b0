import type { GatewayConfig } from "../config";
import type { EmergencyBroadcastPayload } from "../protocol";
import type { Clock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import type { CallRegistry } from "./calls";
import type { FeatureFigures, GatewayFigures } from "./figures";
import type { GatewayHooks } from "./hooks";
import type { LoadShedder } from "./load-shedding";
import type { GatewayMetrics } from "./metrics";

import type { GatewayServer, GatewaySocket, GatewayState } from "./socket";

export { presenceRoom, userRoom } from "./socket";
export type { GatewayServer, GatewaySocket, GatewayState };

/** What the gateway lets features drive (the fleet registry obeys control commands through it). */
export interface GatewayControl {
  readonly status: GatewayState;
  readonly port: number;
  stats(): Promise<GatewayFigures>;
  pause(): Promise<{ disconnected: number }>;
  resume(): boolean;
  /** Emits an already stored emergency broadcast to this instance's sockets; answers how many. */
  deliverBroadcast(broadcast: EmergencyBroadcastPayload): Promise<number>;
  /** Admin kick: `session_ended` then disconnect for every socket of `uid` on this instance; answers how many. */
  endSessions(uid: string): number;
}

/** What every feature is handed. Ports come through the feature's own factory, built in the composition root. */
export interface GatewayContext {
  config: GatewayConfig;
  io: GatewayServer;
  logger: Logger;
  clock: Clock;
  instanceId: string;
  hooks: GatewayHooks;
  calls: CallRegistry;
  metrics: GatewayMetrics;
  /** Bounds on work in flight (load shedding). */
  load: LoadShedder;
  gateway: GatewayControl;
}

/**
 * A capability of the gateway (heartbeats, sending, presence ...). Built once per gateway from its
 * context by a factory; the gateway calls `onConnection` for every admitted socket, after it joined its
 * user room and got `auth_success`. Features talk to each other only through `ctx.hooks`.
 */
export interface GatewayFeature {
  readonly name: string;
  /**
   * Runs after authentication and before the socket is connected (it is in no room yet and receives
   * nothing): load what `onConnection` must deliver first. Throwing a GatewayError refuses the socket
   * with it (`connect_error`, e.g. UNAVAILABLE + retryAfterMs): do so when the socket would otherwise be
   * admitted deaf. Any other failure is logged and the socket admitted.
   */
  /**
   * Admission screens (issue 12, connection budgets), run one feature after the other before anything is
   * loaded: `screenHandshake` before the token is verified (only the handshake is known: address, headers),
   * `screen` after it (socket.data.uid is set). Throwing a GatewayError refuses the socket with it.
   */
  screenHandshake?(socket: GatewaySocket): Promise<void>;
  screen?(socket: GatewaySocket): Promise<void>;
  /** The socket passed `screen` but was refused later in admission (a `prepare` failed or timed out). */
  abandon?(socket: GatewaySocket): void;
  prepare?(socket: GatewaySocket): Promise<void>;
  onConnection?(socket: GatewaySocket): void | Promise<void>;
  /** Runs after the socket is gone, whatever the reason. */
  onDisconnect?(socket: GatewaySocket, reason: string): void | Promise<void>;
  /** Runs once when the gateway stops, before its sockets are closed. */
  stop?(): Promise<void>;
  /** Figures for `/status` and `/metrics`, under the feature's section of `FeatureFigures`. */
  figures?(): Partial<FeatureFigures> | Promise<Partial<FeatureFigures>>;
}

export type FeatureFactory = (ctx: GatewayContext) => GatewayFeature;

import type { Server, Socket } from "socket.io";
import type { GatewayConfig } from "../config";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from "../protocol";
import type { Clock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import type { BroadcastDelivery } from "./emergency-broadcasts";

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Tells which users have at least one live connection on any instance (the presence feature provides it). */
export interface OnlineDirectory {
  onlineUsers(uids: string[]): Promise<Set<string>>;
}

/** Services features offer each other through the context, filled in by createGateway. */
export interface GatewayServices {
  online?: OnlineDirectory;
  /** "redis-down" when the gateway's Redis connection fails, "redis-up" when it is back. */
  events?: import("node:events").EventEmitter;
  /** Live emergency broadcasts on this instance (control plane). */
  broadcasts?: BroadcastDelivery;
}

/** What every feature module of the gateway is handed. */
export interface GatewayContext {
  config: GatewayConfig;
  io: GatewayServer;
  logger: Logger;
  clock: Clock;
  instanceId: string;
  services: GatewayServices;
}

/**
 * A capability of the gateway (heartbeats, messaging, presence ...). The gateway calls `onConnection`
 * for every admitted socket, after it joined its user room and got `auth_success`.
 */
export interface GatewayFeature {
  readonly name: string;
  /**
   * Runs after authentication and before the socket is connected (it is in no room yet and receives
   * nothing): load what `onConnection` must deliver first. A failure is logged, never refuses the client.
   */
  prepare?(socket: GatewaySocket): Promise<void>;
  onConnection(socket: GatewaySocket): void | Promise<void>;
  /** Runs after the socket is gone, whatever the reason. */
  onDisconnect?(socket: GatewaySocket, reason: string): void | Promise<void>;
  /** Runs once when the gateway stops, before its sockets are closed. */
  stop?(): Promise<void>;
  /** Figures for `/status`, under the feature's name. */
  stats?(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export const userRoom = (uid: string) => `user:${uid}`;

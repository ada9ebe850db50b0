/**
 * The wire protocol, declared once and shared by the server, the tests and any TypeScript client.
 * Documented for Flutter and web clients in docs/PROTOCOL.md.
 */
import type { ErrorBody } from "./errors";

export const PROTOCOL_VERSION = 1;

/** Answer of every client → server call that can fail, through a Socket.IO acknowledgement. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckCallback<T extends object = object> = (response: Ack<T>) => void;

export interface AuthSuccessPayload {
  uid: string;
  roles: string[];
  instanceId: string;
  heartbeatIntervalMs: number;
  presenceTtlMs: number;
  serverTime: number;
  protocolVersion: number;
}

export interface ServerShutdownPayload {
  reason: "shutdown" | "stopped";
  reconnectAfterMs: number;
}

export interface ServerToClientEvents {
  auth_success: (payload: AuthSuccessPayload) => void;
  server_shutdown: (payload: ServerShutdownPayload) => void;
  error: (error: ErrorBody) => void;
}

export interface ClientToServerEvents {
  heartbeat: (ack?: AckCallback<{ serverTime: number }>) => void;
}

export interface InterServerEvents {
  ping: () => void;
}

/** What the gateway keeps on each admitted socket (`socket.data`). */
export interface SocketData {
  uid: string;
  roles: string[];
  claims: Record<string, unknown>;
  connectedAt: number;
}

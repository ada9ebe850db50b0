import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from "../protocol";

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export type GatewayState = "idle" | "running" | "stopping" | "stopped";

/** Every socket of a user joins its user room. */
export const userRoom = (uid: string) => `user:${uid}`;

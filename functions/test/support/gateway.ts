import { io as connectClient, ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import type { GatewayConfig } from "../../src/config";
import { createGateway, CreateGatewayOptions } from "../../src/gateway/create-gateway";
import type { Gateway } from "../../src/gateway/gateway";
import type { AuthSuccessPayload, ClientToServerEvents, ServerToClientEvents } from "../../src/protocol";
import { environment } from "./environment";
import { TEST_CONTROL_SECRET } from "./secrets";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const gateways: Gateway[] = [];
const clients: ClientSocket[] = [];

/** A gateway on a free port with the test environment's Redis and Firestore; stopped after the test. */
export async function startGateway(overrides: Partial<GatewayConfig> = {}, options: CreateGatewayOptions = {}) {
  const env = environment();
  const gateway = createGateway(
    // consentGroupAdds "anyone": most tests are about groups, not consent (test/consent.test.ts sets "contacts", the default).
    { port: 0, projectId: env.projectId, redisUrl: env.redis.url, shutdownTimeoutMs: 1_000, controlSecret: TEST_CONTROL_SECRET, consentGroupAdds: "anyone", ...overrides },
    options,
  );
  gateways.push(gateway);
  const port = await gateway.start();
  return { gateway, port, url: `http://127.0.0.1:${port}` };
}

/** A real socket.io-client, not yet connected to anything else; disconnected after the test. */
export function createClient(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket: ClientSocket = connectClient(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...options });
  clients.push(socket);
  return socket;
}

/** Connects with an ID token and resolves with `auth_success`, or rejects with the `connect_error`. */
export function connectAs(url: string, idToken: string, options: Partial<ManagerOptions & SocketOptions> = {}) {
  const socket = createClient(url, { auth: { token: idToken }, ...options });
  return new Promise<{ socket: ClientSocket; welcome: AuthSuccessPayload }>((resolve, reject) => {
    socket.once("auth_success", (welcome) => resolve({ socket, welcome }));
    socket.once("connect_error", reject);
  });
}

/** Resolves with the connect error a refused client sees. */
export function connectError(socket: ClientSocket): Promise<Error & { data?: { code: string; reason?: string; message: string } }> {
  return new Promise((resolve, reject) => {
    socket.once("connect_error", resolve);
    socket.once("auth_success", () => reject(new Error("the client was admitted")));
  });
}

export function nextEvent<T = unknown>(socket: ClientSocket, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    (socket as unknown as Socket).once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

export async function closeTrackedResources(): Promise<void> {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
}

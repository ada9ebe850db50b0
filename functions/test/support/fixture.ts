import type { GatewayConfig } from "../../src/config";
import type { CreateGatewayOptions } from "../../src/gateway/create-gateway";
import type { ChatMessage } from "../../src/protocol";
import { connectAs, createClient, startGateway } from "./gateway";
import { collect } from "./messaging";
import { createUsers, TestUser, UserSpec } from "./users";

/** An admitted client of a test user: the socket and the `auth_success` it was welcomed with. */
export type Connected = Awaited<ReturnType<typeof connectAs>>;

/**
 * The fixture most tests start with: a gateway on port 0 (the test environment's Redis and Firestore)
 * and real users with Auth-emulator ID tokens; `connect` admits one client per user given. The root
 * hooks tear all of it down after each test.
 *
 *   const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
 *   const [a, b] = await connect(alice, bob);
 */
export async function gatewayWith(users: UserSpec[], config: Partial<GatewayConfig> = {}, options: CreateGatewayOptions = {}) {
  const [made, started] = await Promise.all([createUsers(...users), startGateway(config, options)]);
  return { ...started, users: made, connect: (...who: TestUser[]) => connectAll(started.url, who) };
}

/** Connects one client per user, one after the other (as a test would write them), all admitted. */
export async function connectAll(url: string, users: TestUser[]): Promise<Connected[]> {
  const connected: Connected[] = [];
  for (const user of users) connected.push(await connectAs(url, user.idToken));
  return connected;
}

/**
 * A client of `user` that records every `event` from its first packet on (the offline-queue flush and
 * the broadcast replay come at admission), then connects. It is connecting, not yet admitted.
 */
export function recordingClient<T = ChatMessage>(url: string, user: TestUser, event = "new_message") {
  const socket = createClient(url, { auth: { token: user.idToken }, autoConnect: false });
  const received = collect<T>(socket, event);
  socket.connect();
  return { socket, received };
}

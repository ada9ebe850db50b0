import { TalowaClient, type ChatMessage, type TalowaClientOptions } from "../../../client/src/index.js";
import type { TestUser } from "./users";
import { eventually } from "./wait";

const clients: TalowaClient[] = [];

/** A @talowa/client TalowaClient for a test user (its token from the Auth emulator); closed after the test. */
export function talowaClient(url: string | string[], user: Pick<TestUser, "idToken">, options: Partial<TalowaClientOptions> = {}): TalowaClient {
  const client = new TalowaClient({ url, getToken: () => user.idToken, minReconnectDelayMs: 50, maxReconnectDelayMs: 1_000, ackTimeoutMs: 5_000, ...options });
  clients.push(client);
  return client;
}

/** Starts the client and waits until it is connected and caught up. */
export async function started(client: TalowaClient): Promise<TalowaClient> {
  await client.start();
  await client.ready();
  return client;
}

/** Every message the client hands the app, in the order it hands them. */
export function appInbox(client: TalowaClient, filter: (m: ChatMessage) => boolean = () => true): ChatMessage[] {
  const received: ChatMessage[] = [];
  client.on("message", (m) => filter(m) && received.push(m));
  return received;
}

/** Waits (through the suite's one poll loop) until `check` is true. */
export async function holds(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await eventually(check, { accept: (ok) => ok, what, timeoutMs });
}

export async function closeTalowaClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
}

import type { Ack, ChatMessage, SendMessagePayload, SendMessageResult } from "../../src/protocol";
import type { ClientSocket } from "./gateway";

let counter = 0;

/** A unique clientId, as a client library would make one per message. */
export const newClientId = () => `c-${Date.now().toString(36)}-${++counter}`;

export function send(socket: ClientSocket, payload: Partial<SendMessagePayload>): Promise<Ack<SendMessageResult>> {
  const full = { clientId: newClientId(), type: "text", content: "hello", ...payload } as SendMessagePayload;
  return socket.timeout(10_000).emitWithAck("send_message", full);
}

/** Sends and returns the success result, failing the test with the error otherwise. */
export async function sendOk(socket: ClientSocket, payload: Partial<SendMessagePayload>): Promise<SendMessageResult> {
  const answer = await send(socket, payload);
  if (!answer.ok) throw new Error(`send failed: ${answer.error.code} ${answer.error.message}`);
  return answer;
}

/** Emits any event with an ack (also events the typed maps do not know, to test refusals). */
export function call<T = unknown>(socket: ClientSocket, event: string, payload?: unknown): Promise<Ack<T & object>> {
  const raw = socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<Ack<T & object>> } };
  return payload === undefined ? raw.timeout(10_000).emitWithAck(event) : raw.timeout(10_000).emitWithAck(event, payload);
}

export async function callOk<T = unknown>(socket: ClientSocket, event: string, payload?: unknown): Promise<T> {
  const answer = await call<T>(socket, event, payload);
  if (!answer.ok) throw new Error(`${event} failed: ${answer.error.code} ${answer.error.message}`);
  return answer as unknown as T;
}

/** Everything a socket receives of one event, in order. */
export function collect<T = ChatMessage>(socket: ClientSocket, event = "new_message"): T[] {
  const received: T[] = [];
  (socket as unknown as { on(event: string, listener: (payload: T) => void): void }).on(event, (payload) => received.push(payload));
  return received;
}

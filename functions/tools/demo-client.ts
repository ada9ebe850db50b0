/**
 * A command-line client for the local stack: signs in (or up) a user in the Auth emulator, connects to
 * the gateway with its ID token, prints every event it receives and confirms delivery of messages.
 * With --to <uid>, every line typed on standard input is sent to that user as a text message.
 *   npm run client -- --email you@example.com [--to <uid>] [--url http://127.0.0.1:8081] [--auth 127.0.0.1:9099]
 */
import { io } from "socket.io-client";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { ClientToServerEvents, ServerToClientEvents } from "../src/protocol";

const { values } = parseArgs({
  options: {
    email: { type: "string", default: "demo@talowa.local" },
    password: { type: "string", default: "talowa-demo" },
    url: { type: "string", default: "http://127.0.0.1:8081" },
    auth: { type: "string", default: process.env.FIREBASE_AUTH_EMULATOR_HOST || "127.0.0.1:9099" },
    to: { type: "string" },
  },
});

async function idToken(): Promise<string> {
  const call = async (method: string) => {
    const res = await fetch(`http://${values.auth}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=any`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: values.email, password: values.password, returnSecureToken: true }),
    });
    return (await res.json()) as { idToken?: string };
  };
  return (await call("signInWithPassword")).idToken ?? (await call("signUp")).idToken ?? Promise.reject(new Error("could not sign in"));
}

async function main(): Promise<void> {
  const token = await idToken();
  const socket = io(values.url!, { auth: { token }, transports: ["websocket"] }) as import("socket.io-client").Socket<ServerToClientEvents, ClientToServerEvents>;
  socket.onAny((event, ...args) => console.log(`← ${event}`, JSON.stringify(args)));
  socket.on("connect_error", (error) => console.log("connect_error", error.message, JSON.stringify((error as { data?: unknown }).data)));
  socket.on("disconnect", (reason) => console.log("disconnected:", reason));
  socket.on("auth_success", ({ uid }) => console.log(`you are ${uid}${values.to ? `; type a line to message ${values.to}` : ""}`));
  socket.on("new_message", (message) => socket.emit("mark_delivered", { conversationId: message.conversationId, upToSeq: message.seq }));
  if (values.to) {
    let n = 0;
    createInterface({ input: process.stdin }).on("line", async (line) => {
      const answer = await socket
        .timeout(10_000)
        .emitWithAck("send_message", { clientId: `cli-${process.pid}-${++n}`, type: "text", content: line, recipientId: values.to });
      console.log("→ ack", JSON.stringify(answer));
    });
  }
  process.on("SIGINT", () => {
    socket.disconnect();
    process.exit(0);
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

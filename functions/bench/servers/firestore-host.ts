/**
 * The in-process Node Firestore emulator (@firestore-emulator/server), in a process of its own so its
 * CPU is neither the runner's nor the gateway's. Announces its port over IPC.
 */
import { FirestoreServer } from "@firestore-emulator/server";
import { freePort } from "../../tools/free-port";
import { serveIpc } from "../lib/ipc";

async function main(): Promise<void> {
  const server = new FirestoreServer();
  const port = await freePort();
  await server.start(port);
  serveIpc(async (request) => {
    if (request.cmd === "cpu") return process.cpuUsage();
    if (request.cmd === "memory") return process.memoryUsage();
    throw new Error(`unknown command ${request.cmd}`);
  });
  const stop = () => {
    server.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.send?.({ type: "ready", port });
}

main().catch((error) => {
  process.stderr.write(`firestore emulator failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

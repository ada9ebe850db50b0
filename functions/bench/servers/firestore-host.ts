/**
 * The in-process Node Firestore emulator (@firestore-emulator/server), in a process of its own so its
 * CPU is neither the runner's nor the gateway's. Announces its port over IPC.
 *
 * This emulator copies a collection's document map on every new document (immer `produce`), so a write
 * costs time in proportion to what the collection already holds, and a query scans every document of
 * its collection. A bench phase that runs after others would measure how full the emulator got, not
 * the gateway; the runner therefore resets it (`reset`) before every phase that does not depend on
 * earlier data, keeping only the collections it names (top-level documents, without subcollections).
 */
import { FirestoreServer, FirestoreState } from "@firestore-emulator/server";
import { freePort } from "../../tools/free-port";
import { serveIpc } from "../lib/ipc";

/** The emulator's state below FirestoreState's public API (fields private in TypeScript, plain in JavaScript). */
interface StateNode {
  projects?: Record<string, StateNode>;
  databases?: Record<string, StateNode>;
  collections?: Record<string, StateNode>;
  documents?: Record<string, StateNode>;
  metadata?: { hasExist: boolean };
  fields?: Record<string, unknown>;
  getPath?: () => string;
}

export interface EmulatorDocuments {
  /** Existing documents per collection, subcollections by their path pattern (`conversations/*\/messages`). */
  byCollection: Record<string, number>;
  total: number;
}

const databasesOf = (state: FirestoreState): StateNode[] =>
  Object.values((state as unknown as StateNode).projects ?? {}).flatMap((project) => Object.values(project.databases ?? {}));

export function countDocuments(state: FirestoreState): EmulatorDocuments {
  const byCollection: Record<string, number> = {};
  let total = 0;
  const walk = (collections: Record<string, StateNode> | undefined, prefix: string) => {
    for (const [name, collection] of Object.entries(collections ?? {})) {
      const key = prefix ? `${prefix}/${name}` : name;
      for (const document of Object.values(collection.documents ?? {})) {
        if (document.metadata?.hasExist) {
          byCollection[key] = (byCollection[key] ?? 0) + 1;
          total += 1;
        }
        walk(document.collections, `${key}/*`);
      }
    }
  };
  for (const database of databasesOf(state)) walk(database.collections, "");
  return { byCollection, total };
}

/** Empties the emulator, then writes back the top-level documents of the `keep` collections (their fields as they were). */
export function resetEmulator(state: FirestoreState, keep: string[]): { before: EmulatorDocuments; kept: number } {
  const before = countDocuments(state);
  const saved: Array<{ path: string; fields: Record<string, unknown> }> = [];
  for (const database of databasesOf(state)) {
    for (const name of keep) {
      for (const document of Object.values(database.collections?.[name]?.documents ?? {})) {
        if (document.metadata?.hasExist && document.getPath) saved.push({ path: document.getPath(), fields: document.fields ?? {} });
      }
    }
  }
  state.clear();
  const now = new Date();
  for (const { path, fields } of saved) state.getDocument(path).create(now, fields as Parameters<ReturnType<FirestoreState["getDocument"]>["create"]>[1]);
  return { before, kept: saved.length };
}

async function main(): Promise<void> {
  const server = new FirestoreServer();
  const port = await freePort();
  await server.start(port);
  serveIpc(async (request) => {
    if (request.cmd === "cpu") return process.cpuUsage();
    if (request.cmd === "memory") return process.memoryUsage();
    if (request.cmd === "documents") return countDocuments(server.state);
    if (request.cmd === "reset") return resetEmulator(server.state, Array.isArray(request.keep) ? (request.keep as string[]) : []);
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

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`firestore emulator failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

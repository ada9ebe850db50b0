import { FirestoreServer } from "@firestore-emulator/server";
import { freePort } from "./free-port";

/**
 * Firestore for tests and the local stack: the official emulator when FIRESTORE_EMULATOR_HOST is set
 * (for example under `firebase emulators:exec`), otherwise the in-process Node emulator
 * (@firestore-emulator/server), because the official one needs Java 21 and a download (see DESIGN.md).
 */
export class FirestoreEmulator {
  private constructor(
    readonly host: string,
    readonly kind: "official" | "node",
    private readonly server?: FirestoreServer,
  ) {}

  static async start(port?: number): Promise<FirestoreEmulator> {
    const external = process.env.FIRESTORE_EMULATOR_HOST;
    if (external) return new FirestoreEmulator(external, "official");
    const server = new FirestoreServer();
    const chosen = port ?? (await freePort());
    await server.start(chosen);
    const host = `127.0.0.1:${chosen}`;
    process.env.FIRESTORE_EMULATOR_HOST = host;
    return new FirestoreEmulator(host, "node", server);
  }

  /** Deletes every document of the project. */
  async clear(projectId: string): Promise<void> {
    if (this.server) {
      this.server.state.clear();
      return;
    }
    const res = await fetch(`http://${this.host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: "DELETE" });
    if (!res.ok) throw new Error(`clearing the Firestore emulator failed: HTTP ${res.status}`);
  }

  stop(): void {
    this.server?.stop();
  }
}

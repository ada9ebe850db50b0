import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";

export const functionsDir = resolve(__dirname, "..");
export const firebaseBin = join(functionsDir, "node_modules", ".bin", "firebase");

/**
 * The Firebase Auth emulator from the project's own firebase-tools, on free ports, with a config of
 * its own (no Emulator UI: it is a download this machine cannot make) so that it never clashes with
 * a local stack running beside it.
 */
export class AuthEmulator {
  private constructor(
    readonly host: string,
    readonly projectId: string,
    private readonly process: OwnedProcess,
  ) {}

  static async start(projectId: string): Promise<AuthEmulator> {
    const [port, hubPort, loggingPort] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), "talowa-auth-"));
    const config = {
      emulators: {
        auth: { host: "127.0.0.1", port },
        hub: { host: "127.0.0.1", port: hubPort },
        logging: { host: "127.0.0.1", port: loggingPort },
        ui: { enabled: false },
      },
    };
    writeFileSync(join(dir, "firebase.json"), JSON.stringify(config));
    const child = OwnedProcess.start("auth-emulator", firebaseBin, [
      "emulators:start", "--only", "auth", "--project", projectId, "--config", join(dir, "firebase.json"),
    ], { cwd: dir, env: { ...process.env, FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" } });
    const host = `127.0.0.1:${port}`;
    await waitFor(async () => {
      if (!child.alive) throw new Error(`the Auth emulator exited:\n${child.recentOutput()}`);
      return (await fetch(`http://${host}/`)).ok;
    }, "the Auth emulator", 180_000, 200); // generous: on a busy 2-core machine firebase-tools can take over a minute to boot
    return new AuthEmulator(host, projectId, child);
  }

  async clearAccounts(): Promise<void> {
    const res = await fetch(`http://${this.host}/emulator/v1/projects/${this.projectId}/accounts`, { method: "DELETE" });
    if (!res.ok) throw new Error(`clearing Auth emulator accounts failed: HTTP ${res.status}`);
  }

  stop(): Promise<void> {
    return this.process.stop(10_000);
  }
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { firebaseBin } from "./auth-emulator";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";

/**
 * The Firebase Hosting emulator from the project's own firebase-tools (pure Node, works offline), serving
 * one folder on a free port with a config of its own, UI disabled. The web app's tests use it; the local
 * stack starts hosting from firebase.json instead.
 */
export class HostingEmulator {
  private constructor(
    readonly port: number,
    private readonly process: OwnedProcess,
    private readonly dir: string,
  ) {}

  static async start(options: { publicDir: string; projectId: string }): Promise<HostingEmulator> {
    const [port, hubPort, loggingPort] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), "talowa-hosting-"));
    const config = {
      // Relative to the config: with an absolute `public` the emulator answers 404 to everything (firebase-tools 15).
      hosting: { public: relative(dir, options.publicDir) },
      emulators: {
        hosting: { host: "127.0.0.1", port },
        hub: { host: "127.0.0.1", port: hubPort },
        logging: { host: "127.0.0.1", port: loggingPort },
        ui: { enabled: false },
      },
    };
    writeFileSync(join(dir, "firebase.json"), JSON.stringify(config));
    const child = OwnedProcess.start("hosting-emulator", firebaseBin, [
      "emulators:start", "--only", "hosting", "--project", options.projectId, "--config", join(dir, "firebase.json"),
    ], { cwd: dir, env: { ...process.env, FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" } });
    const emulator = new HostingEmulator(port, child, dir);
    await waitFor(async () => {
      if (!child.alive) throw new Error(`the Hosting emulator exited:\n${child.recentOutput()}`);
      return (await fetch(emulator.url)).ok;
    }, "the Hosting emulator", 120_000, 200).catch(async (error) => {
      await emulator.stop();
      throw new Error(`${error.message}\n${child.recentOutput()}`);
    });
    return emulator;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async stop(): Promise<void> {
    await this.process.stop(5_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

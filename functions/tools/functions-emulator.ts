import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firebaseBin, functionsDir } from "./auth-emulator";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";

/**
 * The Cloud Functions emulator from the project's own firebase-tools, serving the built `lib/` on free
 * ports, UI disabled. It runs from a scratch copy of the codebase (symlinks to package.json, lib and
 * node_modules) holding a generated `.env.local` with `params`: the emulator reads params from the
 * codebase's dotenv files, not from its own environment, and writes the defaults it resolves back
 * into them — so the real functions folder is never touched and each launch gets its own settings.
 * Non-param variables (FIREBASE_AUTH_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST ...) pass through `env`.
 * Build first (`npm run build`).
 */
export class FunctionsEmulator {
  private constructor(
    readonly port: number,
    readonly projectId: string,
    private readonly process: OwnedProcess,
    private readonly dir: string,
  ) {}

  static async start(options: { projectId: string; params?: Record<string, string>; env?: Record<string, string | undefined> }): Promise<FunctionsEmulator> {
    const [port, hubPort, loggingPort] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), "talowa-functions-"));
    const source = join(dir, "functions");
    scratchCodebase(source, options.params ?? {});
    const config = {
      functions: [{ source: "functions", codebase: "default" }],
      emulators: {
        functions: { host: "127.0.0.1", port },
        hub: { host: "127.0.0.1", port: hubPort },
        logging: { host: "127.0.0.1", port: loggingPort },
        ui: { enabled: false },
        singleProjectMode: true,
      },
    };
    writeFileSync(join(dir, "firebase.json"), JSON.stringify(config));
    const child = OwnedProcess.start("functions-emulator", firebaseBin, [
      "emulators:start", "--only", "functions", "--project", options.projectId, "--config", join(dir, "firebase.json"), "--non-interactive",
    ], { cwd: dir, env: { ...process.env, ...options.env, FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" } });
    const emulator = new FunctionsEmulator(port, options.projectId, child, dir);
    await waitFor(async () => {
      if (!child.alive) throw new Error(`the Functions emulator exited:\n${child.recentOutput()}`);
      return (await fetch(emulator.url("getWebSocketInfo"))).ok;
    }, "the Functions emulator", 120_000, 250).catch(async (error) => {
      await emulator.stop();
      throw new Error(`${error.message}\n${child.recentOutput()}`);
    });
    return emulator;
  }

  url(functionName: string, path = ""): string {
    return `http://127.0.0.1:${this.port}/${this.projectId}/us-central1/${functionName}${path}`;
  }

  recentOutput(): string {
    return this.process.recentOutput();
  }

  async stop(): Promise<void> {
    await this.process.stop(10_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function scratchCodebase(target: string, params: Record<string, string>): void {
  mkdirSync(target, { recursive: true });
  for (const entry of ["package.json", "lib", "node_modules"]) symlinkSync(join(functionsDir, entry), join(target, entry));
  const lines = Object.entries(params).map(([key, value]) => `${key}=${value}`);
  writeFileSync(join(target, ".env.local"), lines.join("\n") + "\n");
}

/**
 * The bench's child processes: each a Node process running a TypeScript file through ts-node
 * (transpile only), with an IPC channel, in its own process group, ended by its PID (OwnedProcess).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { OwnedProcess } from "../../tools/processes";
import { IpcClient } from "./ipc";

export const functionsDir = join(__dirname, "..", "..");

export interface NodeChild<Ready> {
  proc: OwnedProcess;
  ipc: IpcClient;
  ready: Ready;
}

export class Children {
  private readonly owned = new Set<OwnedProcess>();

  /** With `buildDir` (see build.ts) children run the transpiled JavaScript; without, through ts-node. */
  constructor(private buildDir?: string) {}

  useBuild(buildDir: string): void {
    this.buildDir = buildDir;
  }

  /** Starts `script` (a .ts path relative to functions/) and resolves once it sent `{ type: "ready", ... }`. */
  async start<Ready>(
    name: string,
    script: string,
    options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; onLine?: (line: string) => void; readyTimeoutMs?: number } = {},
  ): Promise<NodeChild<Ready>> {
    const args = this.buildDir
      ? [...(options.execArgv ?? []), join(this.buildDir, script.replace(/\.ts$/, ".js"))]
      : [...(options.execArgv ?? []), "-r", "ts-node/register/transpile-only", join(functionsDir, script)];
    const child = spawn(process.execPath, args, {
      cwd: functionsDir,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...options.env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      detached: true,
    });
    const proc = new OwnedProcess(name, child);
    this.owned.add(proc);
    child.once("exit", () => this.owned.delete(proc));
    if (options.onLine) {
      let buffered = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          options.onLine!(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
    }
    const ipc = new IpcClient(name, child);
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${proc.recentOutput()}`)), options.readyTimeoutMs ?? 60_000);
      const onMessage = (msg: unknown) => {
        if ((msg as { type?: string })?.type !== "ready") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(msg as Ready);
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${proc.recentOutput()}`));
      });
    }).catch(async (error) => {
      await proc.kill();
      throw error;
    });
    return { proc, ipc, ready };
  }

  /** Ends every child still running: SIGTERM to its process group, SIGKILL after `graceMs`. */
  async stopAll(graceMs = 3_000): Promise<void> {
    await Promise.all([...this.owned].map((p) => p.stop(graceMs)));
    this.owned.clear();
  }

  get pids(): number[] {
    return [...this.owned].map((p) => p.pid ?? 0).filter(Boolean);
  }
}

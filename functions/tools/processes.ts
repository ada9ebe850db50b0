import { ChildProcess, spawn, SpawnOptions } from "node:child_process";

/**
 * A child process we started, ended by its own PID (never by name). `detached` puts it in its own
 * process group so that helpers it spawns end with it.
 */
export class OwnedProcess {
  private exited: Promise<void>;
  private output = "";

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static start(name: string, command: string, args: string[], options: SpawnOptions = {}): OwnedProcess {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...options });
    return new OwnedProcess(name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  recentOutput(): string {
    return this.output;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`, resolves when the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive || !this.pid) return;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    this.signal("SIGKILL");
    return this.exited;
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.pid) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }
}

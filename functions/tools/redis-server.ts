import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";

export function redisServerInstalled(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A private redis-server on a free loopback port, no persistence. */
export class LocalRedis {
  private process?: OwnedProcess;

  constructor(readonly port: number) {}

  static async start(port?: number): Promise<LocalRedis> {
    const redis = new LocalRedis(port ?? (await freePort()));
    await redis.start();
    return redis;
  }

  /** The running redis-server process (undefined before start). */
  get child(): OwnedProcess | undefined {
    return this.process;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!redisServerInstalled()) {
      throw new Error("redis-server is not installed (or not on PATH). Install it: Debian/Ubuntu `sudo apt-get install -y redis-server`, macOS `brew install redis`.");
    }
    this.process = OwnedProcess.start("redis-server", "redis-server", [
      "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
    ]);
    await waitFor(() => redisAnswers(this.port), `redis-server on ${this.port}`, 10_000, 50).catch((error) => {
      throw new Error(`${error.message}\n${this.process?.recentOutput()}`);
    });
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** Stops without a chance to clean up, as a crash would. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }
}

export function redisAnswers(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => finish(data.toString().startsWith("+PONG")));
  });
}

/**
 * What every server under test answers the runner over IPC: memory after a forced GC (the runner
 * starts servers with --expose-gc), CPU time, and a stop that lets --cpu-prof write its profile.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { writeHeapSnapshot } from "node:v8";
import { serveIpc, ServerMemory, ServerReady, ServerRequest, sleep } from "../lib/ipc";

/** CPU profiling of one phase through the inspector (the same sampler as --cpu-prof, started and stopped on demand). */
class PhaseProfiler {
  private session?: Session;

  private post(method: string, params?: object): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );
  }

  async start(intervalUs: number): Promise<void> {
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      await this.post("Profiler.enable");
    }
    await this.post("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.post("Profiler.start");
  }

  async stop(file: string): Promise<string> {
    if (!this.session) throw new Error("the profiler was not started");
    const { profile } = (await this.post("Profiler.stop")) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }
}

export function serveControl(server: { connections: () => number; stop: () => Promise<void> }): void {
  let stopping = false;
  const profiler = new PhaseProfiler();
  const stopAndExit = async () => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    await server.stop().catch(() => undefined);
    process.exit(0); // a normal exit: --cpu-prof writes its profile now
  };
  serveIpc(async (request) => {
    const req = request as unknown as ServerRequest;
    switch (req.cmd) {
      case "memory": {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (req.gc && gc) {
          // Twice, with a pause: weak callbacks and finalizers run between the two.
          gc();
          await sleep(200);
          gc();
        }
        const m = process.memoryUsage();
        const result: ServerMemory = {
          rss: m.rss,
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          connections: server.connections(),
        };
        return result;
      }
      case "cpu":
        return process.cpuUsage();
      case "heapSnapshot": {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        await sleep(200);
        gc?.();
        return writeHeapSnapshot(req.file);
      }
      case "profileStart":
        await profiler.start(req.intervalUs);
        return true;
      case "profileStop":
        return profiler.stop(req.file);
      case "stop":
        setImmediate(() => void stopAndExit());
        return true;
      default:
        throw new Error(`unknown command ${(req as { cmd: string }).cmd}`);
    }
  });
  process.on("SIGTERM", () => void stopAndExit());
  process.on("SIGINT", () => void stopAndExit());
}

export function announceReady(ready: Omit<ServerReady, "type">): void {
  process.send?.({ type: "ready", ...ready } satisfies ServerReady);
}

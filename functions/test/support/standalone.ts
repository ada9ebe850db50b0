import { join } from "node:path";
import { freePort } from "../../tools/free-port";
import { OwnedProcess } from "../../tools/processes";
import { environment } from "./environment";
import { TEST_CONTROL_SECRET } from "./secrets";

const entry = join(__dirname, "..", "..", "lib", "hosts", "standalone.js");
const running: OwnedProcess[] = [];

/** A standalone gateway process (lib/hosts/standalone.js) against the test environment; stopped after the test. */
export function runStandalone(env: Record<string, string>): OwnedProcess {
  const { projectId, authHost, redis } = environment();
  const gateway = OwnedProcess.start("gateway", process.execPath, [entry], {
    env: { ...process.env, FIREBASE_PROJECT_ID: projectId, FIREBASE_AUTH_EMULATOR_HOST: authHost, REDIS_URL: redis.url, LOG_LEVEL: "warn", CONTROL_SECRET: TEST_CONTROL_SECRET, ...env },
  });
  running.push(gateway);
  return gateway;
}

/** Starts a standalone gateway on a free port and resolves once it listens. */
export async function startStandalone(env: Record<string, string> = {}) {
  const port = await freePort();
  const gateway = runStandalone({ PORT: String(port), ...env });
  await listening(gateway);
  return { gateway, port, url: `http://127.0.0.1:${port}` };
}

export function exitOf(gateway: OwnedProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (!gateway.alive) return resolve(gateway.child.exitCode);
    gateway.child.once("exit", (code) => resolve(code));
  });
}

export async function listening(gateway: OwnedProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = () => (gateway.recentOutput().includes("listening on") ? resolve() : undefined);
    gateway.child.stdout?.on("data", check);
    gateway.child.once("exit", () => reject(new Error(`the gateway exited: ${gateway.recentOutput()}`)));
    check();
  });
}

export async function stopStandalones(): Promise<void> {
  await Promise.all(running.splice(0).map((g) => g.stop(3_000)));
}

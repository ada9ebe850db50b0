import { expect } from "chai";
import { join } from "node:path";
import { freePort } from "../tools/free-port";
import { OwnedProcess } from "../tools/processes";
import { connectAs, nextEvent } from "./support/gateway";
import { environment } from "./support/environment";
import { createUser } from "./support/users";

const entry = join(__dirname, "..", "lib", "hosts", "standalone.js");

function runStandalone(env: Record<string, string>) {
  const { projectId, authHost, redis } = environment();
  return OwnedProcess.start("gateway", process.execPath, [entry], {
    env: { ...process.env, FIREBASE_PROJECT_ID: projectId, FIREBASE_AUTH_EMULATOR_HOST: authHost, REDIS_URL: redis.url, ...env },
  });
}

function exitOf(gateway: OwnedProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (!gateway.alive) return resolve(gateway.child.exitCode);
    gateway.child.once("exit", (code) => resolve(code));
  });
}

async function listening(gateway: OwnedProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = () => (gateway.recentOutput().includes("listening on") ? resolve() : undefined);
    gateway.child.stdout?.on("data", check);
    gateway.child.once("exit", () => reject(new Error(`the gateway exited: ${gateway.recentOutput()}`)));
    check();
  });
}

describe("standalone gateway process", () => {
  it("refuses to start with a bad setting and names it", async () => {
    const gateway = runStandalone({ PORT: "eighty", PRESENCE_TTL_MS: "1000", HEARTBEAT_INTERVAL_MS: "5000" });

    const code = await exitOf(gateway);

    expect(code).to.equal(2);
    expect(gateway.recentOutput()).to.include('PORT (port): expected a whole number, got "eighty"');
  });

  it("names settings that are valid alone but not together", async () => {
    const gateway = runStandalone({ PRESENCE_TTL_MS: "1000", HEARTBEAT_INTERVAL_MS: "5000" });

    const code = await exitOf(gateway);

    expect(code).to.equal(2);
    expect(gateway.recentOutput()).to.include("PRESENCE_TTL_MS (presenceTtlMs): presenceTtlMs must be longer than heartbeatIntervalMs");
  });

  it("admits a client with a real token and drains on SIGTERM", async () => {
    const alice = await createUser({ name: "alice" });
    const port = await freePort();
    const gateway = runStandalone({ PORT: String(port), SHUTDOWN_TIMEOUT_MS: "1000" });
    try {
      await listening(gateway);
      const { socket, welcome } = await connectAs(`http://127.0.0.1:${port}`, alice.idToken);
      expect(welcome.uid).to.equal(alice.uid);
      const notice = nextEvent(socket, "server_shutdown");

      gateway.child.kill("SIGTERM");

      expect(await notice).to.include({ reason: "shutdown" });
      expect(await exitOf(gateway)).to.equal(0);
    } finally {
      await gateway.stop();
    }
  });
});

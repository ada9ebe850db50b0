import { expect } from "chai";
import { freePort } from "../tools/free-port";
import { connectAs, nextEvent } from "./support/gateway";
import { exitOf, listening, runStandalone } from "./support/standalone";
import { createUser } from "./support/users";

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

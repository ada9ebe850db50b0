import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { resolveConfig } from "../src/config";
import { SingleHostGateway } from "../src/control/single-host";
import { silentLogger } from "../src/ports/logger";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { freePort } from "../tools/free-port";
import { environment } from "./support/environment";
import { connectAs, nextEvent } from "./support/gateway";
import { createUser } from "./support/users";
import { TEST_CONTROL_SECRET } from "./support/secrets";

/**
 * The Functions emulator may serve a request from another worker process than the one holding the
 * gateway. Two SingleHostGateway objects on one port stand for two workers: the second one must see
 * the gateway as running and reach it over loopback.
 */
describe("single host: a control request served by another worker", () => {
  it("sees the gateway running, broadcasts through it, and stops it", async () => {
    const alice = await createUser({ name: "alice" });
    const port = await freePort();
    const config = resolveConfig({ port, projectId: environment().projectId, shutdownTimeoutMs: 300, controlSecret: TEST_CONTROL_SECRET });
    const holder = new SingleHostGateway(config, silentLogger);
    const other = new SingleHostGateway(config, silentLogger);
    try {
      await holder.start();
      const { socket } = await connectAs(`http://127.0.0.1:${port}`, alice.idToken);
      const broadcast: EmergencyBroadcastPayload = { id: randomUUID(), title: "t", body: "b", priority: "high", senderId: "x", createdAt: Date.now() };
      const received = nextEvent(socket, "emergency_broadcast");
      const notice = nextEvent(socket, "server_shutdown");

      const started = await other.start();
      const instances = await other.instances();
      const delivered = await other.broadcast(broadcast);
      const stopped = await other.stop();

      expect(started).to.include({ started: false, detail: "already running in another worker of this host" });
      expect(instances.map((i) => i.figures?.state)).to.deep.equal(["running"]);
      expect(delivered).to.deep.equal({ delivered: 1, instances: 1 });
      expect(await received).to.deep.equal(broadcast);
      expect(stopped).to.include({ stopped: true });
      expect(await notice).to.include({ reason: "stopped" });
    } finally {
      await holder.stop();
    }
  });
});

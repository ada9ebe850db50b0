import { expect } from "chai";
import { userRoom } from "../src/gateway/types";
import { connectAs, nextEvent, startGateway } from "./support/gateway";
import { createUser, createUsers } from "./support/users";
import { settle } from "./support/wait";

describe("several gateway instances on one Redis", () => {
  it("an event for a user's room reaches the user's socket on another instance", async () => {
    const alice = await createUser({ name: "alice" });
    const a = await startGateway();
    const b = await startGateway();
    const { socket } = await connectAs(b.url, alice.idToken);
    await settle(100); // the room's channel subscription reaches Redis

    const received = nextEvent(socket, "server_shutdown");
    a.gateway.io.to(userRoom(alice.uid)).emit("server_shutdown", { reason: "stopped", reconnectAfterMs: 1 });

    expect(await received).to.deep.equal({ reason: "stopped", reconnectAfterMs: 1 });
  });

  it("draining one instance leaves the clients of the others alone", async () => {
    const [bob, carol] = await createUsers("bob", "carol");
    const a = await startGateway({ shutdownTimeoutMs: 200 });
    const b = await startGateway();
    const onA = await connectAs(a.url, bob.idToken);
    const onB = await connectAs(b.url, carol.idToken);
    let carolNotified = false;
    onB.socket.on("server_shutdown", () => (carolNotified = true));

    const bobNotified = nextEvent(onA.socket, "server_shutdown");
    await a.gateway.stop();
    await bobNotified;
    await settle(200);

    expect(carolNotified).to.equal(false);
    expect(onB.socket.connected).to.equal(true);
  });
});

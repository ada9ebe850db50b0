import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { firestore } from "../src/firebase";
import { FirestoreBroadcastStore } from "../src/ports/broadcast-store/firestore-broadcast-store";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { connectAs, createClient, nextEvent, startGateway } from "./support/gateway";
import { createUser } from "./support/users";

function broadcastOf(overrides: Partial<EmergencyBroadcastPayload> = {}): EmergencyBroadcastPayload {
  return { id: randomUUID(), title: "Flood warning", body: "Move to higher ground.", priority: "critical", senderId: "admin", createdAt: Date.now(), ...overrides };
}

async function storeAndDeliver(gateway: { deliverBroadcast(b: EmergencyBroadcastPayload): Promise<number> }, broadcast: EmergencyBroadcastPayload) {
  await new FirestoreBroadcastStore(firestore()).save(broadcast);
  return gateway.deliverBroadcast(broadcast);
}

function collect(socket: { on(event: string, listener: (payload: EmergencyBroadcastPayload) => void): unknown }) {
  const received: EmergencyBroadcastPayload[] = [];
  socket.on("emergency_broadcast", (b) => received.push(b));
  return received;
}

describe("emergency broadcasts on the gateway", () => {
  it("reach every connected client live", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { gateway, url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const broadcast = broadcastOf();
    const toA = nextEvent(a.socket, "emergency_broadcast");
    const toB = nextEvent(b.socket, "emergency_broadcast");

    const reached = await storeAndDeliver(gateway, broadcast);

    expect(reached).to.equal(2);
    expect(await toA).to.deep.equal(broadcast);
    expect(await toB).to.deep.equal(broadcast);
  });

  it("are replayed, oldest first, to a user who was offline when they went out", async () => {
    const carol = await createUser({ name: "carol" });
    const { gateway, url } = await startGateway();
    const first = broadcastOf({ title: "first", createdAt: Date.now() - 2_000 });
    const second = broadcastOf({ title: "second", createdAt: Date.now() - 1_000 });
    await storeAndDeliver(gateway, second);
    await storeAndDeliver(gateway, first);

    const socket = createClient(url, { auth: { token: carol.idToken }, autoConnect: false });
    const received = collect(socket);
    socket.connect();
    await nextEvent(socket, "auth_success");
    await new Promise((r) => setTimeout(r, 300));

    expect(received.map((b) => b.title)).to.deep.equal(["first", "second"]);
  });

  it("are not replayed to a user who already received them", async () => {
    const dan = await createUser({ name: "dan" });
    const { gateway, url } = await startGateway();
    const before = broadcastOf({ title: "before", createdAt: Date.now() - 1_000 });
    await storeAndDeliver(gateway, before);
    const first = await connectAs(url, dan.idToken);
    await new Promise((r) => setTimeout(r, 200)); // the replay of "before" raises dan's mark
    const live = nextEvent(first.socket, "emergency_broadcast");
    await storeAndDeliver(gateway, broadcastOf({ title: "live" }));
    await live;
    first.socket.disconnect();
    await new Promise((r) => setTimeout(r, 300)); // the disconnect raises dan's mark past "live"

    const again = createClient(url, { auth: { token: dan.idToken }, autoConnect: false });
    const received = collect(again);
    again.connect();
    await nextEvent(again, "auth_success");
    await new Promise((r) => setTimeout(r, 400));

    expect(received).to.deep.equal([]);
    expect((await firestore().collection("users").doc(dan.uid).get()).get("lastBroadcastAt")).to.be.a("number");
  });
});

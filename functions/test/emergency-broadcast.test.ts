import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { firestore } from "../src/firebase";
import { FirestoreBroadcastStore } from "../src/ports/broadcast-store/firestore-broadcast-store";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { gatewayWith, recordingClient } from "./support/fixture";
import { nextEvent } from "./support/gateway";
import { arrived, eventually, settle } from "./support/wait";

function broadcastOf(overrides: Partial<EmergencyBroadcastPayload> = {}): EmergencyBroadcastPayload {
  return { id: randomUUID(), title: "Flood warning", body: "Move to higher ground.", priority: "critical", senderId: "admin", createdAt: Date.now(), ...overrides };
}

async function storeAndDeliver(gateway: { deliverBroadcast(b: EmergencyBroadcastPayload): number }, broadcast: EmergencyBroadcastPayload) {
  await new FirestoreBroadcastStore(firestore()).save(broadcast);
  return gateway.deliverBroadcast(broadcast);
}

/** The user's broadcast mark, `users/{uid}.lastBroadcastAt` (docs/DATA-MODEL.md). */
async function markOf(uid: string): Promise<number | undefined> {
  return (await firestore().collection("users").doc(uid).get()).get("lastBroadcastAt");
}

describe("emergency broadcasts on the gateway", () => {
  it("reach every connected client live", async () => {
    const { gateway, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const broadcast = broadcastOf();
    const toA = nextEvent(a.socket, "emergency_broadcast");
    const toB = nextEvent(b.socket, "emergency_broadcast");

    const reached = await storeAndDeliver(gateway, broadcast);

    expect(reached).to.equal(2);
    expect(await toA).to.deep.equal(broadcast);
    expect(await toB).to.deep.equal(broadcast);
  });

  it("are replayed, oldest first, to a user who was offline when they went out", async () => {
    const { gateway, url, users: [carol] } = await gatewayWith(["carol"]);
    const first = broadcastOf({ title: "first", createdAt: Date.now() - 2_000 });
    const second = broadcastOf({ title: "second", createdAt: Date.now() - 1_000 });
    await storeAndDeliver(gateway, second);
    await storeAndDeliver(gateway, first);

    const { received } = recordingClient<EmergencyBroadcastPayload>(url, carol, "emergency_broadcast");
    await arrived(received, 2);

    expect(received.map((b) => b.title)).to.deep.equal(["first", "second"]);
  });

  it("are not replayed to a user who already received them", async () => {
    const { gateway, url, connect, users: [dan] } = await gatewayWith(["dan"]);
    const before = broadcastOf({ title: "before", createdAt: Date.now() - 1_000 });
    await storeAndDeliver(gateway, before);
    const [first] = await connect(dan);
    await eventually(async () => expect(await markOf(dan.uid)).to.be.at.least(before.createdAt)); // the replay of "before" raises dan's mark
    const live = broadcastOf({ title: "live" });
    const liveArrives = nextEvent(first.socket, "emergency_broadcast");
    await storeAndDeliver(gateway, live);
    await liveArrives;
    first.socket.disconnect();
    await eventually(async () => expect(await markOf(dan.uid)).to.be.at.least(live.createdAt)); // the disconnect raises dan's mark past "live"

    const { socket: again, received } = recordingClient<EmergencyBroadcastPayload>(url, dan, "emergency_broadcast");
    await nextEvent(again, "auth_success");
    await settle(400);

    expect(received).to.deep.equal([]);
    expect((await firestore().collection("users").doc(dan.uid).get()).get("lastBroadcastAt")).to.be.a("number");
  });
});

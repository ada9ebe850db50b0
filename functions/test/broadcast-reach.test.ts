import { expect } from "chai";
import { randomUUID } from "node:crypto";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { broadcastPush } from "../src/control/broadcast-reach";
import { firestore } from "../src/firebase";
import { FirestoreDeviceRegistry } from "../src/ports/device-registry/firestore-device-registry";
import { silentLogger } from "../src/ports/logger";
import { PushDispatcher } from "../src/ports/push-sender/push-dispatcher";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import { ClientSocket, connectAs, nextEvent, startGateway } from "./support/gateway";
import { controlOver, createUsers } from "./support/reach";
import { createUser, TestUser } from "./support/users";

/** Connects and acknowledges every emergency broadcast as the reference client does; resolves on the first ack. */
async function acknowledging(url: string, user: TestUser): Promise<{ socket: ClientSocket; acked: Promise<string> }> {
  const { socket } = await connectAs(url, user.idToken);
  const acked = new Promise<string>((resolve, reject) => {
    socket.on("emergency_broadcast", (b: EmergencyBroadcastPayload) => {
      socket.emit("ack_broadcast", { id: b.id }, (answer) => (answer.ok ? resolve(b.id) : reject(new Error(answer.error.code))));
    });
  });
  return { socket, acked };
}

describe("emergency broadcasts with reach (receipts, targets, audit, resend)", function () {
  this.timeout(60_000);

  it("a broadcast to 50 users of whom 20 are offline reports 30 acknowledged, lists the 20, then reaches them when they connect (two instances)", async () => {
    const role = `warden-${randomUUID().slice(0, 8)}`;
    const [admin, outsider, users] = await Promise.all([
      createUser({ name: "admin", claims: { admin: true } }),
      createUser({ name: "outsider" }),
      createUsers(50, { name: "warden", claims: { roles: [role] } }),
    ]);
    const [one, two] = await Promise.all([startGateway(), startGateway()]);
    const pushes = new RecordingPushSender(); // FCM has no emulator
    const devices = new FirestoreDeviceRegistry(firestore());
    const control = controlOver([one.gateway, two.gateway], { unreachedLive: async (b, uids) => void (await new PushDispatcher(devices, pushes, silentLogger).notify(uids, broadcastPush(b))) });
    const online = users.slice(0, 30);
    const offline = users.slice(30);
    await Promise.all(users.map((u) => devices.register({ uid: u.uid, token: `tok-${u.uid}`, platform: "android", appVersion: null, lastSeen: Date.now() }, 10)));
    const clients = await Promise.all(online.map((u, i) => acknowledging(i % 2 ? two.url : one.url, u)));
    const stranger = await connectAs(one.url, outsider.idToken);
    const strangerGot: unknown[] = [];
    stranger.socket.on("emergency_broadcast", (b) => strangerGot.push(b));

    const sent = await control("POST", "/emergency-broadcast", admin.idToken, { title: "Evacuate", body: "Go to the school.", target: { role } });
    expect(sent.status).to.equal(200);
    expect(sent.body).to.include({ targeted: 50, delivered: 30, instances: 2 });
    const id = sent.body.broadcast.id as string;
    expect(await Promise.all(clients.map((c) => c.acked))).to.deep.equal(online.map(() => id));

    const report = await control("GET", `/emergency-broadcast/${id}`, admin.idToken);
    expect(report.body).to.include({ targeted: 50, delivered: 30, acknowledged: 30 });
    expect(report.body.unreached).to.deep.equal(offline.map((u) => u.uid).sort());
    const firstPage = await control("GET", `/emergency-broadcast/${id}?limit=15`, admin.idToken);
    const secondPage = await control("GET", `/emergency-broadcast/${id}?limit=15&after=${firstPage.body.nextAfter}`, admin.idToken);
    expect([...firstPage.body.unreached, ...secondPage.body.unreached]).to.deep.equal(report.body.unreached);
    expect(secondPage.body.nextAfter).to.equal(null);
    expect(strangerGot).to.deep.equal([]);
    // the 20 offline recipients got one high-priority push each, at once; the 30 online ones none
    const pushed = pushes.sent.flatMap((s) => s.tokens).sort();
    expect(pushed).to.deep.equal(offline.map((u) => `tok-${u.uid}`).sort());
    expect(pushes.sent.every((s) => s.notification.priority === "high" && s.notification.data.broadcastId === id)).to.equal(true);

    const late = await Promise.all(offline.map((u, i) => acknowledging(i % 2 ? one.url : two.url, u)));
    expect(await Promise.all(late.map((c) => c.acked))).to.deep.equal(offline.map(() => id));
    const after = await control("GET", `/emergency-broadcast/${id}`, admin.idToken);
    expect(after.body).to.include({ targeted: 50, delivered: 50, acknowledged: 50 });
    expect(after.body.unreached).to.deep.equal([]);
  });

  it("targets the members of a group only, and refuses acks from people it was not for", async () => {
    const [admin, member, other] = await Promise.all([createUser({ claims: { admin: true } }), createUser(), createUser()]);
    const { url } = await startGateway();
    const m = await connectAs(url, member.idToken);
    const created = await new Promise<any>((resolve) => m.socket.emit("create_group", { name: "Ward 7", memberIds: [] }, resolve)); // eslint-disable-line @typescript-eslint/no-explicit-any
    const groupId = created.conversation.id as string;
    const o = await connectAs(url, other.idToken);
    const control = controlOver([(await startGateway()).gateway]); // unrelated instance: the group's sockets are on `url`'s gateway
    const got = nextEvent<EmergencyBroadcastPayload>(m.socket, "emergency_broadcast");

    const sent = await control("POST", "/emergency-broadcast", admin.idToken, { title: "Water", body: "Boil water.", target: { groupId } });
    expect(sent.body.targeted).to.equal(1);
    const report = await control("GET", `/emergency-broadcast/${sent.body.broadcast.id}`, admin.idToken);
    expect(report.body.unreached).to.deep.equal([member.uid]);

    const refused = await new Promise<any>((resolve) => o.socket.emit("ack_broadcast", { id: sent.body.broadcast.id }, resolve)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(refused.error.code).to.equal("NOT_FOUND");
    const missing = await control("POST", "/emergency-broadcast", admin.idToken, { title: "x", body: "y", target: { groupId: "no-such-group" } });
    expect(missing.status).to.equal(404);
    void got;
  });

  it("re-sends to those who have not acknowledged, not to those who have", async () => {
    const role = `nurse-${randomUUID().slice(0, 8)}`;
    const [admin, careful, busy] = await Promise.all([createUser({ claims: { admin: true } }), createUser({ claims: { roles: [role] } }), createUser({ claims: { roles: [role] } })]);
    const { gateway, url } = await startGateway();
    const control = controlOver([gateway]);
    const a = await acknowledging(url, careful);
    const b = await connectAs(url, busy.idToken); // shown, never acknowledged
    const bGot: string[] = [];
    b.socket.on("emergency_broadcast", (x) => bGot.push(x.id));
    const aGot: string[] = [];
    a.socket.on("emergency_broadcast", (x) => aGot.push(x.id));
    const sent = await control("POST", "/emergency-broadcast", admin.idToken, { title: "Storm", body: "Stay inside.", target: { role } });
    const id = sent.body.broadcast.id as string;
    await a.acked;

    const again = nextEvent<EmergencyBroadcastPayload>(b.socket, "emergency_broadcast");
    const resent = await control("POST", `/emergency-broadcast/${id}/resend`, admin.idToken);
    expect(resent.status).to.equal(200);
    expect((await again).id).to.equal(id);
    expect((await again).resendTo).to.equal(undefined);
    expect(bGot).to.deep.equal([id, id]);
    expect(aGot).to.deep.equal([id]);
    const report = await control("GET", `/emergency-broadcast/${id}`, admin.idToken);
    expect(report.body.unreached).to.include(busy.uid).and.not.include(careful.uid);
  });

  it("refuses the audit and the resend to non-admins", async () => {
    const [member] = await Promise.all([createUser()]);
    const control = controlOver([]);
    expect((await control("GET", `/emergency-broadcast/${randomUUID()}`, member.idToken)).status).to.equal(403);
    expect((await control("POST", `/emergency-broadcast/${randomUUID()}/resend`, member.idToken)).status).to.equal(403);
  });
});

import { expect } from "chai";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import type { CallIncomingPayload, CallInitiateResult } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { connectAs, startGateway, type ClientSocket } from "./support/gateway";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { createUsers } from "./support/users";
import { arrived, eventually, settle } from "./support/wait";
import { recordingClient } from "./support/fixture";

// Call signaling (relay only). The gateways here share the test environment's Redis, so the call state is the
// Redis adapter's; FCM has no emulator, so pushes are recorded (RecordingPushSender).

type Ended = { callId: string; reason: string; by: string | null };
type Ice = { callId: string; from: string; candidate: { candidate: string } };
const offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=offer\r\n";
const answerSdp = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=answer\r\n";
const candidate = (n: number) => ({ candidate: `candidate:${n} 1 udp 2122260223 192.0.2.${n} 5000${n} typ host`, sdpMid: "0", sdpMLineIndex: 0 });

function events(socket: ClientSocket) {
  return {
    incoming: collect<CallIncomingPayload>(socket, "call_incoming"),
    answered: collect<{ callId: string; by: string; sdpAnswer: string }>(socket, "call_answered"),
    ended: collect<Ended>(socket, "call_ended"),
    ice: collect<Ice>(socket, "call_ice_candidate"),
  };
}

/** Users who already share a direct conversation (the first message opens it). */
async function acquainted(socket: ClientSocket, otherUid: string) {
  return sendOk(socket, { recipientId: otherUid, content: "hi" });
}

describe("call signaling", function () {
  this.timeout(30_000);

  it("rings every device of the callee, connects the device that answers, stops the other, and relays ICE only between the two", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const bobPhone = await connectAs(url, bob.idToken);
    const bobLaptop = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const [onA, onPhone, onLaptop, onCarol] = [a, bobPhone, bobLaptop, c].map((x) => events(x.socket));
    const dm = await acquainted(a.socket, bob.uid);

    const started = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "video", sdpOffer: offer });
    expect(started).to.deep.include({ state: "ringing", calleeIds: [bob.uid], busy: [] });
    const [ringPhone] = await arrived(onPhone.incoming, 1);
    await arrived(onLaptop.incoming, 1);
    expect(ringPhone).to.deep.equal({ callId: started.callId, callerId: alice.uid, conversationId: dm.conversationId, media: "video", sdpOffer: offer, calleeIds: [bob.uid] });

    await callOk(bobPhone.socket, "call_answer", { callId: started.callId, sdpAnswer: answerSdp });
    expect((await arrived(onA.answered, 1))[0]).to.deep.equal({ callId: started.callId, by: bob.uid, sdpAnswer: answerSdp });
    expect((await arrived(onLaptop.ended, 1))[0]).to.deep.equal({ callId: started.callId, reason: "answered_elsewhere", by: bob.uid });

    await callOk(a.socket, "call_ice_candidate", { callId: started.callId, candidate: candidate(1) });
    await callOk(bobPhone.socket, "call_ice_candidate", { callId: started.callId, candidate: candidate(2) });
    expect((await arrived(onPhone.ice, 1))[0]).to.deep.include({ callId: started.callId, from: alice.uid });
    expect((await arrived(onA.ice, 1))[0]).to.deep.include({ from: bob.uid, candidate: candidate(2) });
    // the laptop (not answering) and a stranger may not signal into the call
    expectError(await call(bobLaptop.socket, "call_ice_candidate", { callId: started.callId, candidate: candidate(3) }), "NOT_FOUND");
    expectError(await call(c.socket, "call_ice_candidate", { callId: started.callId, candidate: candidate(4) }), "NOT_FOUND");
    expectError(await call(bobLaptop.socket, "call_answer", { callId: started.callId, sdpAnswer: answerSdp }), "PERMISSION_DENIED");

    await callOk(bobPhone.socket, "call_end", { callId: started.callId });
    expect((await arrived(onA.ended, 1))[0]).to.deep.equal({ callId: started.callId, reason: "ended", by: bob.uid });
    await arrived(onPhone.ended, 1);
    await settle(300);
    expect(onLaptop.ice).to.have.length(0);
    expect(onCarol.ice).to.have.length(0);
    expect(onCarol.incoming).to.have.length(0);
    expect(onPhone.ice).to.have.length(1);
    expect(onLaptop.ended.map((e) => e.reason)).to.deep.equal(["answered_elsewhere"]);
    expectError(await call(a.socket, "call_ice_candidate", { callId: started.callId, candidate: candidate(5) }), "NOT_FOUND");
  });

  it("a call nobody answers ends as missed on every device; candidates before the answer are refused", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({ callRingTimeoutMs: 400 }, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const [onA, onB] = [a, b].map((x) => events(x.socket));
    await acquainted(a.socket, bob.uid);

    const { callId } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    await arrived(onB.incoming, 1);
    expectError(await call(a.socket, "call_ice_candidate", { callId, candidate: candidate(1) }), "INVALID_ARGUMENT");

    expect((await arrived(onA.ended, 1))[0]).to.deep.equal({ callId, reason: "missed", by: null });
    expect((await arrived(onB.ended, 1))[0]).to.deep.equal({ callId, reason: "missed", by: null });
    expectError(await call(b.socket, "call_answer", { callId, sdpAnswer: answerSdp }), "NOT_FOUND");
    // the lines are free again: bob can call alice
    await callOk(b.socket, "call_initiate", { calleeIds: [alice.uid], media: "audio", sdpOffer: offer });
  });

  it("reject stops every device of the callee and tells the caller; a callee in another call is busy", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const bobPhone = await connectAs(url, bob.idToken);
    const bobLaptop = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const [onA, onPhone, onLaptop, onCarol] = [a, bobPhone, bobLaptop, c].map((x) => events(x.socket));
    await acquainted(a.socket, bob.uid);
    await acquainted(c.socket, bob.uid);

    const first = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    await arrived(onLaptop.incoming, 1);
    await callOk(bobPhone.socket, "call_reject", { callId: first.callId });
    expect((await arrived(onA.ended, 1))[0]).to.deep.equal({ callId: first.callId, reason: "rejected", by: bob.uid });
    expect((await arrived(onLaptop.ended, 1))[0]).to.include({ callId: first.callId, reason: "rejected" });
    await arrived(onPhone.ended, 1);

    const second = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    await arrived(onPhone.incoming, 2);
    await callOk(bobPhone.socket, "call_answer", { callId: second.callId, sdpAnswer: answerSdp });

    const busy = await callOk<CallInitiateResult>(c.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    expect(busy).to.deep.include({ state: "ended", calleeIds: [], busy: [bob.uid] });
    expect((await arrived(onCarol.ended, 1))[0]).to.deep.equal({ callId: busy.callId, reason: "busy", by: null });
    expectError(await call(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer }), "PERMISSION_DENIED");
    await settle(200);
    expect(onPhone.incoming).to.have.length(2);
  });

  it("refuses to call a user who blocked the caller, a stranger, or oneself", async () => {
    const [alice, bob, dave] = await createUsers("alice", "bob", "dave");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const d = await connectAs(url, dave.idToken);
    const [onB, onD] = [b, d].map((x) => events(x.socket));
    const dm = await acquainted(a.socket, bob.uid);
    await callOk(b.socket, "block_user", { userId: alice.uid });

    expectError(await call(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer }), "PERMISSION_DENIED");
    expectError(await call(a.socket, "call_initiate", { conversationId: dm.conversationId, media: "audio", sdpOffer: offer }), "PERMISSION_DENIED");
    expectError(await call(a.socket, "call_initiate", { calleeIds: [dave.uid], media: "audio", sdpOffer: offer }), "PERMISSION_DENIED");
    expectError(await call(a.socket, "call_initiate", { calleeIds: [alice.uid], media: "audio", sdpOffer: offer }), "INVALID_ARGUMENT");
    const bad = expectError(await call(a.socket, "call_initiate", { calleeIds: [dave.uid], media: "hologram", sdpOffer: offer }), "INVALID_ARGUMENT");
    expect(bad.message).to.include("media");
    await settle(200);
    expect(onB.incoming).to.have.length(0);
    expect(onD.incoming).to.have.length(0);
  });

  it("a group call rings the other members; the first to answer takes it and the others stop ringing", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const [onA, onB, onC] = [a, b, c].map((x) => events(x.socket));
    const { conversation } = await callOk<{ conversation: { id: string } }>(a.socket, "create_group", { name: "ward 7", memberIds: [bob.uid, carol.uid] });

    const { callId, calleeIds } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { conversationId: conversation.id, media: "audio", sdpOffer: offer });
    expect([...calleeIds].sort()).to.deep.equal([bob.uid, carol.uid].sort());
    await arrived(onB.incoming, 1);
    expect((await arrived(onC.incoming, 1))[0]).to.include({ callId, conversationId: conversation.id });
    await callOk(c.socket, "call_answer", { callId, sdpAnswer: answerSdp });
    expect((await arrived(onA.answered, 1))[0]).to.include({ by: carol.uid });
    expect((await arrived(onB.ended, 1))[0]).to.deep.equal({ callId, reason: "answered_elsewhere", by: carol.uid });
  });

  it("pushes an incoming call to a callee with no live connection, and replaces it when the caller hangs up", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const pushes = new RecordingPushSender();
    const { url } = await startGateway({}, { pushSender: pushes });
    const b = await connectAs(url, bob.idToken);
    await callOk(b.socket, "register_device", { token: `fcm-token-bob-${Date.now()}`, platform: "android" });
    const a = await connectAs(url, alice.idToken);
    await acquainted(a.socket, bob.uid);
    b.socket.disconnect();
    await settle(300); // presence sees bob's socket gone

    const { callId } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "video", sdpOffer: offer });
    const [push] = await arrived(pushes.sent, 1);
    expect(push.notification).to.deep.include({ priority: "high", collapseKey: `call:${callId}`, title: "Incoming video call" });
    expect(push.notification.data).to.include({ kind: "call", callId, callerId: alice.uid, media: "video" });

    // the caller hangs up: the ringing push is replaced (same collapse key)
    await callOk(a.socket, "call_end", { callId });
    const [, stopped] = await arrived(pushes.sent, 2);
    expect(stopped.notification).to.deep.include({ collapseKey: `call:${callId}`, title: "Call ended" });
    expect(stopped.notification.data).to.include({ kind: "call_ended", callId, reason: "cancelled" });
    await settle(300);
    expect(pushes.sent).to.have.length(2);
  });

  it("a party that disconnects ends the call after the grace period, unless a new connection takes its place", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({ callDisconnectGraceMs: 1_500 }, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const [onA, onB] = [a, b].map((x) => events(x.socket));
    await acquainted(a.socket, bob.uid);

    const first = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    await arrived(onB.incoming, 1);
    await callOk(b.socket, "call_answer", { callId: first.callId, sdpAnswer: answerSdp });
    await arrived(onA.answered, 1);

    // bob's network drops and comes back within the grace period: the new connection takes over
    b.socket.disconnect();
    await settle(300); // the drop reached the gateway
    const again = recordingClient<{ callId: string; peerId: string }>(url, bob, "call_resumed");
    expect((await arrived(again.received, 1))[0]).to.deep.include({ callId: first.callId, peerId: alice.uid, state: "active" });
    const onAgain = events(again.socket);
    await callOk(a.socket, "call_ice_candidate", { callId: first.callId, candidate: candidate(1) });
    await arrived(onAgain.ice, 1);
    await settle(1_800); // past the grace period: the call goes on
    expect(onA.ended).to.have.length(0);

    // now bob's device drops for good
    again.socket.disconnect();
    expect((await arrived(onA.ended, 1, 6_000))[0]).to.deep.equal({ callId: first.callId, reason: "disconnected", by: bob.uid });
  });
});

describe("call signaling: a device that drops before the gateway notices", function () {
  this.timeout(30_000);

  it("a new connection made while the old one still looks alive takes over the call when the old one goes", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({ callDisconnectGraceMs: 500 }, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const [onA, onB] = [a, b].map((x) => events(x.socket));
    await acquainted(a.socket, bob.uid);
    const { callId } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
    await arrived(onB.incoming, 1);
    await callOk(b.socket, "call_answer", { callId, sdpAnswer: answerSdp });
    await arrived(onA.answered, 1);

    const again = recordingClient<{ callId: string }>(url, bob, "call_resumed");
    const onAgain = events(again.socket);
    await eventually(() => again.socket.connected, { accept: (up) => up });
    await settle(200); // its standby is recorded
    expect(again.received).to.have.length(0); // the old device is still the party
    b.socket.disconnect();
    expect((await arrived(again.received, 1))[0]).to.include({ callId });
    await callOk(a.socket, "call_ice_candidate", { callId, candidate: candidate(1) });
    await arrived(onAgain.ice, 1);
    await settle(800); // past the grace period: the call goes on
    expect(onA.ended).to.have.length(0);
    expect(onB.ice).to.have.length(0);
  });
});

describe("call signaling budgets", function () {
  this.timeout(30_000);

  it("call_initiate is limited to 5 a minute per user (RATE_LIMITED with retryAfterMs)", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    await acquainted(a.socket, bob.uid);
    for (let i = 0; i < 5; i++) {
      const { callId } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer });
      await callOk(a.socket, "call_end", { callId });
    }
    const refused = expectError(await call(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "audio", sdpOffer: offer }), "RATE_LIMITED");
    expect(refused.retryAfterMs).to.be.greaterThan(0);
  });
});

describe("call signaling across two gateway instances", function () {
  this.timeout(30_000);

  it("caller and callee on different instances ring, answer, exchange ICE and hang up", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const one = await startGateway({}, { pushSender: new RecordingPushSender() });
    const two = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(one.url, alice.idToken);
    const bobPhone = await connectAs(two.url, bob.idToken);
    const bobTablet = await connectAs(one.url, bob.idToken);
    const [onA, onPhone, onTablet] = [a, bobPhone, bobTablet].map((x) => events(x.socket));
    await acquainted(a.socket, bob.uid);
    await settle(200); // the user rooms' channel subscriptions reach Redis

    const { callId } = await callOk<CallInitiateResult>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "video", sdpOffer: offer });
    await arrived(onPhone.incoming, 1);
    await arrived(onTablet.incoming, 1);
    await callOk(bobPhone.socket, "call_answer", { callId, sdpAnswer: answerSdp });
    expect((await arrived(onA.answered, 1))[0]).to.include({ by: bob.uid, sdpAnswer: answerSdp });
    expect((await arrived(onTablet.ended, 1))[0]).to.include({ reason: "answered_elsewhere" });

    await callOk(a.socket, "call_ice_candidate", { callId, candidate: candidate(1) });
    await callOk(bobPhone.socket, "call_ice_candidate", { callId, candidate: candidate(2) });
    expect((await arrived(onPhone.ice, 1))[0]).to.include({ from: alice.uid });
    expect((await arrived(onA.ice, 1))[0]).to.include({ from: bob.uid });

    await callOk(a.socket, "call_end", { callId });
    expect((await arrived(onPhone.ended, 1))[0]).to.deep.equal({ callId, reason: "ended", by: alice.uid });
    await settle(200);
    expect(onTablet.ice).to.have.length(0);
    expect(onTablet.ended).to.have.length(1);
  });
});

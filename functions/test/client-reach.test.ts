/**
 * The client library's call signaling and notification-center helpers (issue 15) against a real gateway:
 * a call offered and answered through the helpers, with ICE kept until the answer; a call that rings out;
 * notifications read and cleared on one device follow on the other.
 */
import { expect } from "chai";
import type { CallInfo, IceCandidate, NotificationItem, TalowaError } from "../../client/src/index.js";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import { holds, started, talowaClient } from "./support/client";
import { startGateway } from "./support/gateway";
import { createUsers } from "./support/users";

const candidate = (n: number): IceCandidate => ({ candidate: `candidate:${n} 1 udp 2122260223 192.168.1.${n} 5000${n} typ host`, sdpMid: "0", sdpMLineIndex: 0 });

describe("client library: calls and the notification center", function () {
  this.timeout(30_000);

  it("a call offered and answered through the helpers: both of bob's devices ring, the phone answers, the laptop stops; candidates given while ringing go out after the answer", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await started(talowaClient(url, alice));
    const phone = await started(talowaClient(url, bob));
    const laptop = await started(talowaClient(url, bob));
    const { conversationId } = await a.send({ recipientId: bob.uid, content: "calling you" });
    const rang: string[] = [];
    for (const [name, device] of [["phone", phone], ["laptop", laptop]] as const) device.on("call_incoming", (call) => rang.push(`${name} ${call.media} from ${call.callerId}`));
    const laptopEnded: CallInfo[] = [];
    laptop.on("call_ended", (call) => laptopEnded.push(call));
    const answers: string[] = [];
    a.on("call_answered", (_call, sdpAnswer) => answers.push(sdpAnswer));
    const phoneGot: IceCandidate[] = [];
    phone.on("call_ice_candidate", (_callId, c) => phoneGot.push(c));
    const aliceGot: Array<{ from: string; candidate: string }> = [];
    a.on("call_ice_candidate", (_callId, c, from) => aliceGot.push({ from, candidate: c.candidate }));

    const started_ = await a.startCall({ conversationId, media: "video", sdpOffer: "v=0 offer" });
    await a.sendIceCandidate(started_.callId, candidate(1)); // still ringing: kept
    await a.sendIceCandidate(started_.callId, candidate(2));
    await holds(() => rang.length === 2, "both of bob's devices to ring");
    const ringing = phone.callInfo(started_.callId);
    await phone.answerCall(started_.callId, "v=0 answer");
    await holds(() => laptopEnded.length === 1 && answers.length === 1 && phoneGot.length === 2, "the answer, the laptop stopping, alice's candidates");
    const lateAnswer = await laptop.answerCall(started_.callId, "v=0 too late").catch((e: TalowaError) => e);
    await phone.sendIceCandidate(started_.callId, candidate(3));
    await holds(() => aliceGot.length === 1, "bob's candidate");
    const active = a.callInfo(started_.callId);
    const phoneEnded: CallInfo[] = [];
    phone.on("call_ended", (call) => phoneEnded.push(call));
    await a.endCall(started_.callId);
    await holds(() => phoneEnded.length === 1, "the call to end on bob's phone");

    expect(started_).to.deep.include({ state: "ringing", calleeIds: [bob.uid], busy: [] });
    expect(rang.sort()).to.deep.equal([`laptop video from ${alice.uid}`, `phone video from ${alice.uid}`]);
    expect(ringing).to.deep.include({ role: "callee", state: "ringing", sdpOffer: "v=0 offer", conversationId });
    expect(answers).to.deep.equal(["v=0 answer"]);
    expect(laptopEnded[0]).to.deep.include({ state: "ended", endedReason: "answered_elsewhere", endedBy: bob.uid });
    expect((lateAnswer as TalowaError).code).to.equal("PERMISSION_DENIED");
    expect(phoneGot.map((c) => c.candidate)).to.deep.equal([candidate(1).candidate, candidate(2).candidate]);
    expect(aliceGot).to.deep.equal([{ from: bob.uid, candidate: candidate(3).candidate }]);
    expect(active).to.deep.include({ role: "caller", state: "active", peerId: bob.uid });
    expect(phoneEnded[0]).to.deep.include({ endedReason: "ended", endedBy: alice.uid });
    expect(a.calls).to.deep.equal([]);
    expect(phone.calls).to.deep.equal([]);
  });

  it("a caller whose connection drops during a call is resumed on the next connection (call_resumed) and can still hang up", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const { conversationId } = await a.send({ recipientId: bob.uid, content: "calling you" });
    const rang: CallInfo[] = [];
    b.on("call_incoming", (call) => rang.push(call));
    const resumed: CallInfo[] = [];
    a.on("call_resumed", (call) => resumed.push(call));
    const bobEnded: CallInfo[] = [];
    b.on("call_ended", (call) => bobEnded.push(call));

    const { callId } = await a.startCall({ conversationId, media: "audio", sdpOffer: "v=0" });
    await holds(() => rang.length === 1, "bob's phone to ring");
    await b.answerCall(callId, "v=0 answer");
    await holds(() => a.callInfo(callId)?.state === "active", "the answer");
    a.reconnect();
    await holds(() => resumed.length === 1, "call_resumed on alice's new connection");
    await a.endCall(callId);
    await holds(() => bobEnded.length === 1, "the end on bob's side");

    expect(resumed[0]).to.deep.include({ callId, role: "caller", state: "active", peerId: bob.uid });
    expect(bobEnded[0]).to.deep.include({ endedReason: "ended", endedBy: alice.uid });
    expect(a.calls).to.deep.equal([]);
  });

  it("refusals reach the app as typed errors: calling a stranger is PERMISSION_DENIED, answering an unknown call NOT_FOUND", async () => {
    const [alice, stranger] = await createUsers("alice", "stranger");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await started(talowaClient(url, alice));

    const refused = await a.startCall({ calleeIds: [stranger.uid], media: "audio", sdpOffer: "v=0" }).catch((e: TalowaError) => e);
    const unknown = await a.answerCall("no-such-call", "v=0").catch((e: TalowaError) => e);

    expect([(refused as TalowaError).code, (unknown as TalowaError).code]).to.deep.equal(["PERMISSION_DENIED", "NOT_FOUND"]);
    expect(a.calls).to.deep.equal([]);
  });

  it("a call nobody answers: bob's devices get call_missed and a missed_call notification; read and cleared on the phone, they follow on the laptop", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({ callRingTimeoutMs: 300 }, { pushSender: new RecordingPushSender() });
    const a = await started(talowaClient(url, alice));
    const phone = await started(talowaClient(url, bob));
    const laptop = await started(talowaClient(url, bob));
    const { conversationId } = await a.send({ recipientId: bob.uid, content: "@bob call me back", mentions: [bob.uid] });
    await holds(() => laptop.notifications.length === 1 && phone.notifications.length === 1, "the mention on both devices");
    const missed: CallInfo[] = [];
    laptop.on("call_missed", (call) => missed.push(call));
    const arrivedOnLaptop: NotificationItem[] = [];
    laptop.on("notification", (n) => arrivedOnLaptop.push(n));

    const call = await a.startCall({ conversationId, media: "audio", sdpOffer: "v=0" });
    await holds(() => missed.length === 1 && arrivedOnLaptop.length === 1, "the missed call on the laptop");
    const beforeReading = laptop.unreadNotifications;
    const page = await phone.getNotifications();
    await phone.markNotificationRead(page.notifications.find((n) => n.kind === "mention")!.id);
    await holds(() => laptop.unreadNotifications === 1, "the laptop to see one read");
    const afterRead = laptop.notifications.map((n) => [n.kind, n.read]);
    await phone.clearNotification(arrivedOnLaptop[0].id);
    await holds(() => laptop.notifications.length === 1, "the laptop to lose the cleared one");
    await phone.clearAllNotifications();
    await holds(() => laptop.notifications.length === 0, "the laptop to lose every one");

    expect(missed[0]).to.deep.include({ callId: call.callId, role: "callee", endedReason: "missed", callerId: alice.uid });
    expect(arrivedOnLaptop[0]).to.deep.include({ kind: "missed_call", title: "Missed call", read: false });
    expect(arrivedOnLaptop[0].data).to.deep.include({ callId: call.callId, callerId: alice.uid });
    expect(beforeReading).to.equal(2);
    expect(afterRead).to.deep.equal([["missed_call", false], ["mention", true]]);
    expect(laptop.unreadNotifications).to.equal(0);
    expect(phone.notifications).to.deep.equal([]);
  });
});

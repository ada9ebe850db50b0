import { expect } from "chai";
import type { BatchResponse, MulticastMessage } from "firebase-admin/messaging";
import { firestore } from "../src/firebase";
import { messagePush } from "../src/gateway/push";
import { FirestoreDeviceRegistry } from "../src/ports/device-registry/firestore-device-registry";
import { FcmPushSender } from "../src/ports/push-sender/fcm-push-sender";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import type { ChatMessage, ConversationSummary } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { callOk, newClientId, sendOk } from "./support/messaging";
import { settle, arrived } from "./support/wait";
import { createUser } from "./support/users";

// FCM has no local emulator: these tests use the RecordingPushSender (it answers tokens marked dead as
// unregistered, as FCM does), and the FCM adapter is checked against an injected messaging client.

const token = (name: string) => `fcm-token-${name}-${Math.random().toString(36).slice(2)}`;

describe("push to devices with no socket (recording sender: FCM has no emulator)", function () {
  this.timeout(30_000);

  it("a user with no socket gets exactly one push per message, none with content when encryption is high, none when muted, and a stale token is pruned", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const pushes = new RecordingPushSender();
    const { url } = await startGateway({}, { pushSender: pushes });
    const bobToken = token("bob");
    const b = await connectAs(url, bob.idToken);
    await callOk(b.socket, "register_device", { token: bobToken, platform: "android", appVersion: "1.2.0" });
    const a = await connectAs(url, alice.idToken);

    const live = await sendOk(a.socket, { clientId: newClientId(), type: "text", content: "while bob is online", recipientId: bob.uid });
    b.socket.disconnect();
    await settle(300); // presence sees bob's socket gone
    const first = await sendOk(a.socket, { clientId: newClientId(), type: "text", content: "hello bob", recipientId: bob.uid });
    const secret = await sendOk(a.socket, { clientId: newClientId(), type: "text", content: "c2VjcmV0", encryptionLevel: "high", recipientId: bob.uid });
    await arrived(pushes.sent, 2);
    await settle(300);

    const toBob = pushes.to(bobToken);
    expect(toBob.map((p) => p.data.messageId)).to.deep.equal([first.messageId, secret.messageId]);
    expect(toBob.map((p) => p.data.messageId)).to.not.include(live.messageId);
    expect(toBob[0]).to.include({ body: "hello bob", priority: "high", collapseKey: `conv:${first.conversationId}` });
    expect(toBob[0].data.senderId).to.equal(alice.uid);
    expect(JSON.stringify(toBob[1])).to.not.include("c2VjcmV0");

    // muted: the message is stored and queued, but no push
    const again = await connectAs(url, bob.idToken);
    await callOk(again.socket, "mute_conversation", { conversationId: first.conversationId });
    again.socket.disconnect();
    await settle(300);
    await sendOk(a.socket, { clientId: newClientId(), type: "text", content: "muted", recipientId: bob.uid });
    await settle(500);
    expect(pushes.to(bobToken)).to.have.length(2);

    // a token FCM answers "not registered" is deleted
    const back = await connectAs(url, bob.idToken);
    await callOk(back.socket, "mute_conversation", { conversationId: first.conversationId, until: null });
    back.socket.disconnect();
    await settle(300);
    pushes.dead.add(bobToken);
    await sendOk(a.socket, { clientId: newClientId(), type: "text", content: "to a dead app", recipientId: bob.uid });
    const registry = new FirestoreDeviceRegistry(firestore());
    for (let i = 0; i < 50 && (await registry.tokensOf([bob.uid])).size > 0; i++) await settle(100);
    expect((await registry.tokensOf([bob.uid])).get(bob.uid)).to.equal(undefined);
  });

  it("refuses a bad device registration with INVALID_ARGUMENT", async () => {
    const user = await createUser();
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const { socket } = await connectAs(url, user.idToken);
    const answer = await new Promise<any>((r) => socket.emit("register_device", { token: "x".repeat(20), platform: "symbian" } as never, r)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(answer.error.code).to.equal("INVALID_ARGUMENT");
  });
});

describe("push content rules", () => {
  const conversation = (type: "direct" | "group"): ConversationSummary => ({
    id: "c1", type, name: type === "group" ? "Ward 7" : null, members: ["a", "b"], admins: [], announcement: false, postingRoles: [], createdBy: "a", createdAt: 1,
  });
  const message = (overrides: Partial<ChatMessage>): ChatMessage => ({
    id: "m1", conversationId: "c1", seq: 3, senderId: "a", type: "text", content: "meet at 6", encryptionLevel: "none" as ChatMessage["encryptionLevel"],
    isAnonymous: false, clientId: "x", clientTimestamp: null, createdAt: 1, metadata: {}, ...overrides,
  });

  it("names no sender for anonymous messages and uses normal priority in groups", () => {
    const push = messagePush(message({ senderId: null, isAnonymous: true }), conversation("group"));
    expect(push.data).to.not.have.property("senderId");
    expect(JSON.stringify(push)).to.not.include('"a"');
    expect(push).to.include({ priority: "normal", title: "Ward 7" });
  });
});

describe("FCM adapter (injected messaging client, no network)", () => {
  function fakeMessaging(answer: (m: MulticastMessage, call: number) => BatchResponse) {
    const calls: MulticastMessage[] = [];
    return {
      calls,
      client: { sendEachForMulticast: async (m: MulticastMessage) => (calls.push(m), answer(m, calls.length)) },
    };
  }
  const ok = (n: number): BatchResponse => ({ successCount: n, failureCount: 0, responses: Array.from({ length: n }, () => ({ success: true, messageId: "id" })) });
  const notification = { title: "New message", body: "hi", data: { kind: "message", conversationId: "c1" }, collapseKey: "conv:c1", priority: "high" as const };

  it("sends the exact multicast messages firebase-admin expects, 500 tokens a batch", async () => {
    const fake = fakeMessaging((m) => ok(m.tokens.length));
    const tokens = Array.from({ length: 501 }, (_, i) => `t${i}`);
    const result = await new FcmPushSender(fake.client).send(tokens, notification);

    expect(result).to.deep.equal({ sent: 501, failed: 0, invalidTokens: [] });
    expect(fake.calls.map((c) => c.tokens.length).sort()).to.deep.equal([1, 500]);
    const { tokens: _t, ...rest } = fake.calls[0];
    expect(rest).to.deep.equal({
      notification: { title: "New message", body: "hi" },
      data: { kind: "message", conversationId: "c1" },
      android: { priority: "high", collapseKey: "conv:c1", notification: { tag: "conv:c1" } },
      apns: { headers: { "apns-priority": "10", "apns-collapse-id": "conv:c1" }, payload: { aps: { sound: "default", threadId: "conv:c1" } } },
      webpush: { headers: { Urgency: "high" }, notification: { tag: "conv:c1" } },
    });
  });

  it("reports dead tokens and retries transient failures with backoff", async () => {
    const delays: number[] = [];
    const fake = fakeMessaging((m, call) => ({
      successCount: 0,
      failureCount: 0,
      responses: m.tokens.map((t) => {
        if (t === "dead") return { success: false, error: { code: "messaging/registration-token-not-registered" } as never };
        if (t === "flaky" && call < 3) return { success: false, error: { code: "messaging/server-unavailable" } as never };
        return { success: true, messageId: "id" };
      }),
    }));
    const sender = new FcmPushSender(fake.client, { baseDelayMs: 10, sleep: async (ms) => void delays.push(ms) });
    const result = await sender.send(["good", "dead", "flaky"], notification);

    expect(result).to.deep.equal({ sent: 2, failed: 0, invalidTokens: ["dead"] });
    expect(fake.calls.map((c) => c.tokens)).to.deep.equal([["good", "dead", "flaky"], ["flaky"], ["flaky"]]);
    expect(delays).to.deep.equal([10, 20]);
  });
});

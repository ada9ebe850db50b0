import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { PresenceUpdatePayload } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { sendOk } from "./support/messaging";
import { gatewayWith } from "./support/fixture";
import { createConversation, fastPresence, nextPresence, presenceOf, presenceReady, recordUpdates, statusOf, userRecord, vanish } from "./support/presence";
import { eventually, settle } from "./support/wait";

async function pair(overrides = {}) {
  const { gateway, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { ...fastPresence, ...overrides });
  const conversationId = await createConversation([alice.uid, bob.uid]);
  const [bobClient] = await connect(bob);
  await presenceReady(bobClient.socket);
  return { alice, bob, gateway, connect, conversationId, watcher: bobClient.socket };
}

describe("presence: online, offline and devices", () => {
  it("shows a user online while either of its two devices is connected, and offline with lastSeen once both left", async () => {
    const { alice, watcher, connect } = await pair();
    const updates = recordUpdates(watcher);

    const online = nextPresence(watcher, alice.uid, "online");
    const [phone] = await connect(alice);
    await online;
    const [laptop] = await connect(alice);
    await presenceReady(laptop.socket);

    phone.socket.disconnect();
    await settle(400);
    expect(await statusOf(watcher, alice.uid)).to.equal("online");

    const offline = nextPresence(watcher, alice.uid, "offline");
    const leftAt = Date.now();
    laptop.socket.disconnect();
    const update = await offline;

    expect(update.lastSeen).to.be.within(leftAt - 1_000, Date.now());
    expect(updates.filter((u) => u.userId === alice.uid).map((u) => u.status)).to.deep.equal(["online", "offline"]);
    const [presence] = await presenceOf(watcher, [alice.uid]);
    expect(presence).to.deep.equal({ userId: alice.uid, status: "offline", lastSeen: update.lastSeen });
  });

  it("records lastLoginAt on connect, lastActiveAt at most once a minute, and lastSeen in users/{uid}", async () => {
    const { alice, watcher, connect } = await pair();
    const before = Date.now();
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);

    const first = await eventually(async () => {
      const record = await userRecord(alice.uid);
      expect(record?.lastLoginAt).to.be.a("number");
      expect(record?.lastActiveAt).to.be.a("number");
      return record!;
    });
    expect(first.lastLoginAt).to.be.at.least(before);

    await presenceOf(socket, [alice.uid]); // activity within the minute writes nothing new
    await settle(300);
    expect((await userRecord(alice.uid))?.lastActiveAt).to.equal(first.lastActiveAt);

    const offline = nextPresence(watcher, alice.uid, "offline");
    socket.disconnect();
    const { lastSeen } = await offline;
    await eventually(async () => expect((await userRecord(alice.uid))?.lastSeen).to.equal(lastSeen));
  });

  it("takes a client that vanishes without closing offline within the TTL and a sweep", async () => {
    const { alice, gateway, watcher, connect } = await pair();
    const online = nextPresence(watcher, alice.uid, "online");
    const [{ socket }] = await connect(alice);
    await online;
    await presenceReady(socket);

    const offline = nextPresence(watcher, alice.uid, "offline", fastPresence.presenceTtlMs + 3_000);
    const vanishedAt = Date.now();
    const tcp = vanish(socket);
    try {
      const update = await offline;

      expect(Date.now() - vanishedAt).to.be.at.least(fastPresence.presenceTtlMs - 500);
      expect(update.lastSeen).to.be.at.most(vanishedAt + 500);
      // The server has not noticed the dead transport yet: presence found it, not a clean close.
      expect(gateway.io.of("/").sockets.has(socket.id!)).to.equal(true);
    } finally {
      tcp.destroy();
    }
  });

  it("keeps a heartbeating client online past the TTL", async () => {
    const { alice, watcher, connect } = await pair({ pingIntervalMs: 20_000 });
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);
    const updates = recordUpdates(watcher);

    const beat = setInterval(() => socket.emit("heartbeat"), fastPresence.heartbeatIntervalMs);
    try {
      await settle(fastPresence.presenceTtlMs * 2);
    } finally {
      clearInterval(beat);
    }

    expect(updates.filter((u) => u.userId === alice.uid)).to.deep.equal([]);
    expect(await statusOf(watcher, alice.uid)).to.equal("online");
  });
});

describe("presence: statuses", () => {
  it("lets a user choose busy or away with a custom status, and clear it", async () => {
    const { alice, watcher, connect } = await pair();
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);

    const busy = nextPresence(watcher, alice.uid, "busy");
    const answer = await socket.timeout(5_000).emitWithAck("update_presence", { status: "busy", customStatus: "In a meeting" });
    expect(answer).to.deep.equal({ ok: true, presence: { userId: alice.uid, status: "busy", customStatus: "In a meeting" } });
    expect(await busy).to.include({ userId: alice.uid, status: "busy", customStatus: "In a meeting" });

    const away = nextPresence(watcher, alice.uid, "away");
    await socket.timeout(5_000).emitWithAck("update_presence", { status: "away" });
    expect((await away).customStatus).to.equal("In a meeting");

    const back = nextPresence(watcher, alice.uid, "online");
    await socket.timeout(5_000).emitWithAck("update_presence", { status: "online", customStatus: null });
    expect(await back).to.not.have.property("customStatus");
    await eventually(async () => expect((await userRecord(alice.uid))?.presence).to.deep.equal({ status: "online", customStatus: null }));
  });

  it("shows away while the app is in the background and online when it comes back", async () => {
    const { alice, watcher, connect } = await pair();
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);

    const away = nextPresence(watcher, alice.uid, "away");
    await socket.timeout(5_000).emitWithAck("update_presence", { appState: "background" });
    await away;

    const online = nextPresence(watcher, alice.uid, "online");
    await socket.timeout(5_000).emitWithAck("update_presence", { appState: "foreground" });
    await online;
  });

  it("shows an idle user away, and online again at its next action", async () => {
    const { alice, watcher, conversationId, connect } = await pair({ presenceIdleAfterMs: 800 });
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);

    await nextPresence(watcher, alice.uid, "away", 4_000);
    await presenceOf(socket, [alice.uid]); // the app asking by itself is no sign of the user
    await settle(300);
    expect(await statusOf(watcher, alice.uid)).to.equal("away");

    const online = nextPresence(watcher, alice.uid, "online");
    socket.emit("typing_start", { conversationId });
    await online;
  });

  it("stays online while one of two devices is in use", async () => {
    const { alice, watcher, connect } = await pair();
    const [phone, laptop] = await connect(alice, alice);
    await presenceReady(phone.socket);
    await presenceReady(laptop.socket);
    const updates = recordUpdates(watcher);

    await phone.socket.timeout(5_000).emitWithAck("update_presence", { appState: "background" });
    await settle(300);

    expect(updates).to.deep.equal([]);
    expect(await statusOf(watcher, alice.uid)).to.equal("online");
  });

  it("refuses malformed updates with INVALID_ARGUMENT and keeps the connection", async () => {
    const { alice, connect } = await pair();
    const [{ socket }] = await connect(alice);

    for (const bad of [{ status: "offline" }, { status: "sleeping" }, { customStatus: 5 }, { customStatus: "x".repeat(141) }, "busy", null]) {
      const answer = await socket.timeout(5_000).emitWithAck("update_presence", bad as never);
      expectError(answer, "INVALID_ARGUMENT", JSON.stringify(bad));
    }
    // Unknown fields are ignored, not refused (issue 14).
    const extra = await socket.timeout(5_000).emitWithAck("update_presence", { extra: 1 } as never);
    expect(extra.ok).to.equal(true);
    expect(socket.connected).to.equal(true);
  });
});

describe("presence: who is told", () => {
  it("tells conversation members, nobody else: a stranger's presence_subscribe answers offline and hears nothing (issue 12)", async () => {
    const { connect, users: [alice, bob, carol, dave] } = await gatewayWith(["alice", "bob", "carol", "dave"], fastPresence);
    await createConversation([alice.uid, bob.uid, "someone-else"], "group");
    const [bobClient, carolClient, daveClient] = await connect(bob, carol, dave);
    const subscribed = await daveClient.socket.timeout(5_000).emitWithAck("presence_subscribe", { userIds: [alice.uid] });
    expect(subscribed).to.deep.equal({ ok: true, presence: [{ userId: alice.uid, status: "offline" }] });
    await Promise.all([bobClient, carolClient].map((c) => presenceReady(c.socket)));
    const carolHeard: PresenceUpdatePayload[] = recordUpdates(carolClient.socket);
    const daveHeard: PresenceUpdatePayload[] = recordUpdates(daveClient.socket);

    const bobHears = nextPresence(bobClient.socket, alice.uid, "online");
    const [{ socket }] = await connect(alice);
    await bobHears;
    const bobHearsBusy = nextPresence(bobClient.socket, alice.uid, "busy");
    await socket.timeout(5_000).emitWithAck("update_presence", { status: "busy", customStatus: "at the clinic, room 4" });
    await bobHearsBusy;
    const daveAsks = await daveClient.socket.timeout(5_000).emitWithAck("get_presence", { userIds: [alice.uid] });
    await settle(300);

    expect(carolHeard).to.deep.equal([]);
    expect(daveHeard).to.deep.equal([]);
    expect(daveAsks).to.deep.equal({ ok: true, presence: [{ userId: alice.uid, status: "offline" }] });
  });

  it("two strangers who start a conversation see each other online at once, without any presence change", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], fastPresence);
    const [a, b] = await connect(alice, bob);
    await Promise.all([a, b].map((c) => presenceReady(c.socket)));
    const before = await a.socket.timeout(5_000).emitWithAck("presence_subscribe", { userIds: [bob.uid] });
    const aliceSeesBob = nextPresence(a.socket, bob.uid, "online");
    const bobSeesAlice = nextPresence(b.socket, alice.uid, "online");

    await sendOk(a.socket, { recipientId: bob.uid, content: "hello" });

    expect(before).to.deep.equal({ ok: true, presence: [{ userId: bob.uid, status: "offline" }] });
    await Promise.all([aliceSeesBob, bobSeesAlice]);
  });

  it("answers the presence of a few hundred users in one call, in the order asked", async () => {
    const { alice, bob, watcher, connect } = await pair();
    const [{ socket }] = await connect(alice);
    await presenceReady(socket);
    await socket.timeout(5_000).emitWithAck("update_presence", { status: "busy" });
    const strangers = Array.from({ length: 298 }, (_, i) => `stranger-${i}`);

    const presence = await presenceOf(watcher, [alice.uid, ...strangers, bob.uid]);

    expect(presence).to.have.length(300);
    expect(presence[0]).to.deep.equal({ userId: alice.uid, status: "busy" });
    expect(presence[1]).to.deep.equal({ userId: "stranger-0", status: "offline" });
    expect(presence[299]).to.deep.equal({ userId: bob.uid, status: "online" });
  });

  it("refuses malformed or oversized queries with INVALID_ARGUMENT", async () => {
    const { watcher } = await pair({ presenceMaxQueryUsers: 10 });
    const tooMany = Array.from({ length: 11 }, (_, i) => `u${i}`);

    for (const bad of [{}, { userIds: [] }, { userIds: "alice" }, { userIds: [1] }, { userIds: tooMany }, undefined]) {
      const answer = await watcher.timeout(5_000).emitWithAck("get_presence", bad as never);
      expectError(answer, "INVALID_ARGUMENT", JSON.stringify(bad));
    }
    const subscribe = await watcher.timeout(5_000).emitWithAck("presence_subscribe", { userIds: tooMany });
    expect(subscribe.ok).to.equal(false);
  });

  it("gives lastSeen from users/{uid} when the presence store no longer has it", async () => {
    const { watcher, bob } = await pair();
    await createConversation([bob.uid, "long-gone"]);
    await firestore().collection("users").doc("long-gone").set({ lastSeen: 1_700_000_000_000 });

    expect(await presenceOf(watcher, ["long-gone"])).to.deep.equal([{ userId: "long-gone", status: "offline", lastSeen: 1_700_000_000_000 }]);
  });
});

describe("presence: status report", () => {
  it("reports the mode, online users, connections and counts by status", async () => {
    const { alice, gateway, connect } = await pair();
    const [phone, laptop] = await connect(alice, alice);
    await presenceReady(phone.socket);
    await presenceReady(laptop.socket);
    await phone.socket.timeout(5_000).emitWithAck("update_presence", { status: "busy" });

    const stats = (await gateway.stats()) as unknown as { presence: Record<string, unknown> };

    expect(stats.presence).to.include({ mode: "redis", onlineUsers: 2, connections: 3, localConnections: 3 });
    expect(stats.presence.byStatus).to.deep.equal({ online: 1, away: 0, busy: 1 });
  });
});

import { expect } from "chai";
import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { firestore } from "../src/firebase";
import { valueOf } from "../src/gateway/metrics";
import { environment } from "./support/environment";
import { FirestoreBroadcastStore } from "../src/ports/broadcast-store/firestore-broadcast-store";
import { FirestoreNotificationStore, MemoryNotificationStore, NotificationStore } from "../src/ports/notification-store";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import type { ChatMessage, ConversationSummary, EmergencyBroadcastPayload, NotificationItem } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { recordingClient } from "./support/fixture";
import { connectAs, startGateway, type ClientSocket } from "./support/gateway";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { createUsers } from "./support/users";
import { arrived, eventually, settle } from "./support/wait";

type Page = { notifications: NotificationItem[]; unreadCount: number; nextBefore: string | null; hasMore: boolean };
const list = (socket: ClientSocket, payload: { limit?: number; before?: string } = {}) => callOk<Page>(socket, "get_notifications", payload);

async function groupOf(socket: ClientSocket, name: string, memberIds: string[]) {
  return (await callOk<{ conversation: ConversationSummary }>(socket, "create_group", { name, memberIds })).conversation;
}

describe("notification center", function () {
  this.timeout(30_000);

  it("a mention notifies the mentioned members only, live and in the list, unread first; mark read updates the counts", async () => {
    const [alice, bob, carol, dave] = await createUsers("alice", "bob", "carol", "dave");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const d = await connectAs(url, dave.idToken);
    const [toBob, toCarol, toDave, toAlice] = [b, c, d, a].map((x) => collect<NotificationItem>(x.socket, "notification_new"));
    const carolsInbox = collect<ChatMessage>(c.socket);
    const group = await groupOf(a.socket, "ward 7", [bob.uid, carol.uid]);
    await arrived(toBob, 1); // added to the group

    const sent = await sendOk(a.socket, { conversationId: group.id, content: "@bob can you bring water?", mentions: [bob.uid, dave.uid, alice.uid, bob.uid] });
    const [, mention] = await arrived(toBob, 2);
    expect(mention).to.deep.include({ kind: "mention", title: "You were mentioned", body: "@bob can you bring water?", read: false, readAt: null });
    expect(mention.data).to.deep.equal({ conversationId: group.id, messageId: sent.messageId, seq: String(sent.seq), senderId: alice.uid });
    expect((await arrived(carolsInbox, 1))[0].mentions).to.deep.equal([bob.uid]);

    await settle(300);
    expect(toCarol.map((n) => n.kind)).to.deep.equal(["added_to_group"]);
    expect(toDave).to.have.length(0);
    expect(toAlice).to.have.length(0);

    const page = await list(b.socket);
    expect(page.unreadCount).to.equal(2);
    expect(page.notifications.map((n) => n.kind)).to.deep.equal(["mention", "added_to_group"]);
    const added = page.notifications[1];
    const read = await callOk<{ unreadCount: number }>(b.socket, "mark_notification_read", { id: added.id });
    expect(read.unreadCount).to.equal(1);
    const after = await list(b.socket);
    expect(after.notifications.map((n) => [n.kind, n.read])).to.deep.equal([["mention", false], ["added_to_group", true]]);

    // the unread count comes with auth_success
    const again = await connectAs(url, bob.idToken);
    expect(again.welcome.unreadNotifications).to.equal(1);
    // someone else's notification does not exist for you
    expectError(await call(c.socket, "mark_notification_read", { id: mention.id }), "NOT_FOUND");
    expectError(await call(c.socket, "clear_notification", { id: mention.id }), "NOT_FOUND");
  });

  it("admission counts no unread notifications when the user is known to have none, and counts again once one is added or the marks are lost", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url, gateway } = await startGateway();
    const skipped = () => valueOf(gateway.metrics.unreadCountsSkipped);
    const admit = async () => {
      const bobNow = await connectAs(url, bob.idToken);
      bobNow.socket.disconnect();
      return bobNow.welcome.unreadNotifications;
    };
    const a = await connectAs(url, alice.idToken);

    expect(await admit()).to.equal(0); // counted once, then known to have none
    await eventually(async () => expect(await admit()).to.equal(0) && expect(await skipped()).to.be.at.least(1));

    await groupOf(a.socket, "new group", [bob.uid]); // bob is told he was added: one unread notification
    await eventually(async () => expect(await admit()).to.equal(1));
    const before = await skipped();
    expect(await admit()).to.equal(1);
    expect(await skipped(), "a user with something unread is always counted").to.equal(before);

    await callOk(await connectAs(url, bob.idToken).then((b) => b.socket), "clear_all_notifications", {});
    expect(await admit()).to.equal(0);
    const redis = new Redis(environment().redis.url);
    await redis.flushall(); // every mark lost: counted again, never a wrong 0
    redis.disconnect();
    await groupOf(a.socket, "second group", [bob.uid]);
    await eventually(async () => expect(await admit()).to.equal(1));
  });

  it("a mention of an offline member pushes once, even when the conversation is muted", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const pushes = new RecordingPushSender();
    const { url } = await startGateway({}, { pushSender: pushes });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const c = await connectAs(url, carol.idToken);
    const group = await groupOf(a.socket, "ward 8", [bob.uid, carol.uid]);
    const bobToken = `fcm-token-bob-${randomUUID()}`;
    const carolToken = `fcm-token-carol-${randomUUID()}`;
    await callOk(b.socket, "register_device", { token: bobToken, platform: "android" });
    await callOk(c.socket, "register_device", { token: carolToken, platform: "ios" });
    await callOk(b.socket, "mute_conversation", { conversationId: group.id });
    await callOk(c.socket, "mute_conversation", { conversationId: group.id });
    b.socket.disconnect();
    c.socket.disconnect();
    await settle(300); // presence sees both gone

    const sent = await sendOk(a.socket, { conversationId: group.id, content: "bob, the bridge is closed", mentions: [bob.uid] });
    await arrived(pushes.sent, 1);
    await settle(300);
    const toBob = pushes.to(bobToken);
    expect(toBob).to.have.length(1);
    expect(toBob[0]).to.deep.include({ title: "You were mentioned in ward 8", priority: "high" });
    expect(toBob[0].data).to.include({ kind: "mention", messageId: sent.messageId });
    expect(pushes.to(carolToken)).to.have.length(0); // muted and not mentioned

    const back = recordingClient<NotificationItem>(url, bob, "notification_new");
    const page = await eventually(() => list(back.socket), { accept: (p) => p.notifications.some((n) => n.kind === "mention") });
    expect(page.notifications.find((n) => n.kind === "mention")?.data.messageId).to.equal(sent.messageId);
  });

  it("being added to a group notifies the added members, not the one who added them", async () => {
    const [alice, bob, carol] = await createUsers("alice", "bob", "carol");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const [a, b, c] = await Promise.all([alice, bob, carol].map((u) => connectAs(url, u.idToken)));
    const [toAlice, toBob, toCarol] = [a, b, c].map((x) => collect<NotificationItem>(x.socket, "notification_new"));
    const group = await groupOf(a.socket, "relief team", [bob.uid]);
    expect((await arrived(toBob, 1))[0]).to.deep.include({ kind: "added_to_group", title: "Added to relief team" });
    expect(toBob[0].data).to.deep.equal({ conversationId: group.id, by: alice.uid });

    await callOk(a.socket, "add_members", { conversationId: group.id, memberIds: [carol.uid] });
    expect((await arrived(toCarol, 1))[0]).to.deep.include({ kind: "added_to_group" });
    await settle(300);
    expect(toAlice).to.have.length(0);
    expect(toBob).to.have.length(1);
  });

  it("a missed call becomes a notification of the callee", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({ callRingTimeoutMs: 300 }, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const [toAlice, toBob] = [a, b].map((x) => collect<NotificationItem>(x.socket, "notification_new"));
    const dm = await sendOk(a.socket, { recipientId: bob.uid, content: "calling you" });

    const { callId } = await callOk<{ callId: string }>(a.socket, "call_initiate", { calleeIds: [bob.uid], media: "video", sdpOffer: "v=0" });
    const [missed] = await arrived(toBob, 1);
    expect(missed).to.deep.include({ kind: "missed_call", title: "Missed video call" });
    expect(missed.data).to.deep.equal({ callId, callerId: alice.uid, media: "video", conversationId: dm.conversationId });
    expect((await list(b.socket)).unreadCount).to.equal(1);
    await settle(200);
    expect(toAlice).to.have.length(0);
  });

  it("an emergency broadcast becomes a notification, live for connected users and at admission for the others", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url, gateway } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const toAlice = collect<NotificationItem>(a.socket, "notification_new");
    const broadcast: EmergencyBroadcastPayload = { id: randomUUID(), title: "Flood warning", body: "Move to higher ground.", priority: "critical", senderId: "admin", createdAt: Date.now() };
    await new FirestoreBroadcastStore(firestore()).save(broadcast);
    await gateway.deliverBroadcast(broadcast);

    const [live] = await arrived(toAlice, 1);
    expect(live).to.deep.include({ kind: "emergency_broadcast", title: "Flood warning", body: "Move to higher ground." });
    expect(live.data).to.deep.equal({ broadcastId: broadcast.id, priority: "critical" });

    const b = recordingClient<NotificationItem>(url, bob, "notification_new");
    const [replayed] = await eventually(() => b.received.filter((n) => n.data.broadcastId === broadcast.id), { accept: (l) => l.length === 1 });
    expect(replayed.kind).to.equal("emergency_broadcast");
    // a second delivery of the same broadcast does not notify twice
    await gateway.deliverBroadcast(broadcast);
    await settle(300);
    expect(toAlice.filter((n) => n.data.broadcastId === broadcast.id)).to.have.length(1);
  });

  it("reading or clearing on one device updates the user's other devices live, not anyone else's", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const phone = await connectAs(url, bob.idToken);
    const laptop = await connectAs(url, bob.idToken);
    const onLaptop = collect<{ change: string; id: string | null; unreadCount: number }>(laptop.socket, "notifications_changed");
    const onPhone = collect(phone.socket, "notifications_changed");
    const onAlice = collect(a.socket, "notifications_changed");
    await groupOf(a.socket, "first", [bob.uid]);
    await groupOf(a.socket, "second", [bob.uid]);
    const page = await eventually(() => list(phone.socket), { accept: (p) => p.unreadCount === 2 });

    await callOk(phone.socket, "mark_notification_read", { id: page.notifications[0].id });
    await callOk(phone.socket, "clear_notification", { id: page.notifications[1].id });
    await callOk(phone.socket, "clear_all_notifications", {});

    expect(await arrived(onLaptop, 3)).to.deep.equal([
      { change: "read", id: page.notifications[0].id, unreadCount: 1 },
      { change: "cleared", id: page.notifications[1].id, unreadCount: 0 },
      { change: "cleared_all", id: null, unreadCount: 0 },
    ]);
    await settle(200);
    expect(onPhone).to.deep.equal([]);
    expect(onAlice).to.deep.equal([]);
  });

  it("pages unread first, clears one or all, and refuses a cursor it never gave", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const toBob = collect<NotificationItem>(b.socket, "notification_new");
    for (const name of ["g1", "g2", "g3", "g4", "g5"]) await groupOf(a.socket, name, [bob.uid]);
    await arrived(toBob, 5);
    const oldest = toBob.find((n) => n.title === "Added to g1")!;
    await callOk(b.socket, "mark_notification_read", { id: oldest.id });
    const newest = toBob.find((n) => n.title === "Added to g5")!;
    await callOk(b.socket, "mark_notification_read", { id: newest.id });

    const seen: string[] = [];
    let page = await list(b.socket, { limit: 2 });
    seen.push(...page.notifications.map((n) => n.title));
    while (page.hasMore) {
      page = await list(b.socket, { limit: 2, before: page.nextBefore! });
      seen.push(...page.notifications.map((n) => n.title));
    }
    expect(seen).to.deep.equal(["Added to g4", "Added to g3", "Added to g2", "Added to g5", "Added to g1"]);
    expect(page.unreadCount).to.equal(3);

    const cleared = await callOk<{ unreadCount: number }>(b.socket, "clear_notification", { id: toBob.find((n) => n.title === "Added to g4")!.id });
    expect(cleared.unreadCount).to.equal(2);
    expect((await list(b.socket)).notifications).to.have.length(4);
    expect(await callOk<{ cleared: number; unreadCount: number }>(b.socket, "clear_all_notifications", {})).to.deep.include({ cleared: 4, unreadCount: 0 });
    expect(await list(b.socket)).to.deep.include({ notifications: [], unreadCount: 0, hasMore: false, nextBefore: null });

    expectError(await call(b.socket, "get_notifications", { before: "x123" }), "INVALID_ARGUMENT");
    expectError(await call(b.socket, "get_notifications", { limit: "ten" }), "INVALID_ARGUMENT");
  });
});

describe("notification center across two gateway instances", function () {
  this.timeout(30_000);

  it("a mention sent on one instance reaches the mentioned member's devices on the other, and the count follows", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const one = await startGateway({}, { pushSender: new RecordingPushSender() });
    const two = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(one.url, alice.idToken);
    const bobPhone = await connectAs(two.url, bob.idToken);
    const bobLaptop = await connectAs(one.url, bob.idToken);
    const [onPhone, onLaptop] = [bobPhone, bobLaptop].map((x) => collect<NotificationItem>(x.socket, "notification_new"));
    await settle(200); // the user rooms' channel subscriptions reach Redis
    const group = await groupOf(a.socket, "ward 9", [bob.uid]);
    await sendOk(a.socket, { conversationId: group.id, content: "bob?", mentions: [bob.uid] });

    expect((await arrived(onPhone, 2)).map((n) => n.kind)).to.deep.equal(["added_to_group", "mention"]);
    expect((await arrived(onLaptop, 2)).map((n) => n.kind)).to.deep.equal(["added_to_group", "mention"]);
    await callOk(bobLaptop.socket, "mark_notification_read", { id: onLaptop[1].id });
    expect((await list(bobPhone.socket)).unreadCount).to.equal(1);
  });
});

describe("notification store adapters (same order and paging)", () => {
  const adapters: Array<[string, () => NotificationStore]> = [
    ["memory", () => new MemoryNotificationStore()],
    ["firestore", () => new FirestoreNotificationStore(firestore())],
  ];
  for (const [name, make] of adapters) {
    it(`${name}: adds once per id, lists unread first and newest first, pages to the end`, async () => {
      const store = make();
      const uid = `u-${randomUUID()}`;
      const base = Date.now();
      const make1 = (i: number) => ({ id: `n-${uid}-${i}`, uid, kind: "mention" as const, title: `n${i}`, body: "b", data: { i: String(i) }, createdAt: base + i });
      const created = await store.add([0, 1, 2, 3].map(make1), base + 60_000);
      expect(created.map((n) => n.title)).to.deep.equal(["n0", "n1", "n2", "n3"]);
      expect(await store.add([make1(1)], base + 60_000)).to.deep.equal([]);
      expect(await store.markRead(uid, `n-${uid}-2`, base + 10)).to.equal(true);
      expect(await store.unreadCount(uid)).to.equal(3);

      const first = await store.list(uid, 3);
      expect(first.notifications.map((n) => n.title)).to.deep.equal(["n3", "n1", "n0"]);
      const second = await store.list(uid, 3, first.nextBefore!);
      expect(second.notifications.map((n) => [n.title, n.read, n.readAt])).to.deep.equal([["n2", true, base + 10]]);
      expect(second.nextBefore).to.equal(null);
      expect(await store.clear("someone-else", `n-${uid}-0`)).to.equal(false);
      expect(await store.clearAll(uid)).to.equal(4);
    });
  }
});

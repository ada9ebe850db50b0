import { expect } from "chai";
import type { FunctionsEmulator } from "../tools/functions-emulator";
import { freePort } from "../tools/free-port";
import { TcpProxy } from "../tools/tcp-proxy";
import type { PresenceUpdatePayload, UserPresence } from "../src/protocol";
import { DAY_ONE, DAY_TWO, firestoreActivityLog, scriptedDay } from "./support/activity";
import { startFunctions } from "./support/control";
import { environment } from "./support/environment";
import { connectAs, nextEvent, startGateway } from "./support/gateway";
import { apiCall } from "./support/http-api";
import { eventually } from "./support/wait";
import { callOk, sendOk } from "./support/messaging";
import { createUser, TestUser } from "./support/users";

/**
 * The `api` function in the Functions emulator, with real ID tokens, the test Redis and Firestore, each
 * behind a TCP proxy the outage test cuts. One emulator for the file. Gateways run in this process on
 * the same Redis and Firestore, so what the API reads is what the gateway wrote.
 */
describe("HTTP API (the api function in the Functions emulator)", function () {
  this.timeout(60_000);
  let functions: FunctionsEmulator;
  let redisProxy: TcpProxy;
  let firestoreProxy: TcpProxy;

  before(async function () {
    this.timeout(180_000);
    const env = environment();
    const redisPort = Number(new URL(env.redis.url).port);
    const [firestoreHost, firestorePort] = env.firestore.host.split(":");
    redisProxy = new TcpProxy(await freePort(), { host: "127.0.0.1", port: redisPort });
    firestoreProxy = new TcpProxy(await freePort(), { host: firestoreHost, port: Number(firestorePort) });
    await Promise.all([redisProxy.open(), firestoreProxy.open()]);
    functions = await startFunctions(
      { REDIS_URL: `redis://${redisProxy.address}`, HTTP_BACKEND_TIMEOUT_MS: "2000", HTTP_CONTACTS_CACHE_MS: "0", BLOCK_LIST_CACHE_MS: "0" },
      { FIRESTORE_EMULATOR_HOST: firestoreProxy.address, HTTP_RATE_LIMITS: JSON.stringify({ presenceBatch: { limit: 1000, windowMs: 60_000 } }) },
    );
  });

  after(async function () {
    this.timeout(30_000);
    await functions?.stop();
    await Promise.all([redisProxy?.close(), firestoreProxy?.close()]);
  });

  const get = (path: string, user?: TestUser, headers?: Record<string, string>) => apiCall(functions, "GET", path, { token: user?.idToken, headers });
  const post = (path: string, user: TestUser, body: unknown, headers?: Record<string, string>) => apiCall(functions, "POST", path, { token: user.idToken, body, headers });
  const presenceOf = async (viewer: TestUser, uid: string) => (await post("/presence/batch", viewer, { userIds: [uid] })).body.presence?.[0];

  /** Alice and Bob connected to a gateway, sharing a direct conversation (Alice wrote to Bob). */
  async function pair() {
    const { url } = await startGateway();
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const fromAlice = await connectAs(url, alice.idToken);
    const fromBob = await connectAs(url, bob.idToken);
    const first = await sendOk(fromAlice.socket, { recipientId: bob.uid, content: "hi Bob" });
    return { url, alice, bob, aliceSocket: fromAlice.socket, bobSocket: fromBob.socket, dm: first.conversationId };
  }

  it("refuses requests without a valid ID token, and answers unknown routes and wrong methods with JSON errors", async () => {
    const member = await createUser({ name: "member" });

    const none = await get("/users/me/presence");
    const garbage = await apiCall(functions, "GET", "/users/me/presence", { token: "not-a-token" });
    const unknown = await get("/nothing/here", member);
    const wrongMethod = await apiCall(functions, "DELETE", "/conversations", { token: member.idToken });

    expect(none.status).to.equal(401);
    expect(none.body).to.deep.equal({ ok: false, error: { code: "UNAUTHENTICATED", message: "An Authorization: Bearer <Firebase ID token> header is required.", reason: "TOKEN_MISSING" } });
    expect(garbage.status).to.equal(401);
    expect(garbage.body.error).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_MALFORMED" });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal("NOT_FOUND");
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.body.error).to.deep.equal({ code: "INVALID_ARGUMENT", message: "Method DELETE is not allowed on /conversations; use GET." });
    expect(wrongMethod.headers.get("allow")).to.equal("GET");
  });

  it("answers bad input with 400 or 413 and a stable code, and ignores unknown fields", async () => {
    const [member, admin] = await Promise.all([createUser({ name: "member" }), createUser({ name: "admin", claims: { admin: true } })]);

    const answers = {
      notAList: await post("/presence/batch", member, { userIds: "bob" }),
      empty: await post("/presence/batch", member, { userIds: [] }),
      tooMany: await post("/presence/batch", member, { userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) }),
      notJson: await apiCall(functions, "POST", "/presence/batch", { token: member.idToken, body: "{oops", headers: { "content-type": "text/plain" } }),
      huge: await post("/activity", member, { action: "app_opened", metadata: { blob: "x".repeat(20_000) } }),
      limitZero: await get("/conversations?limit=0", member),
      limitWord: await get("/conversations?limit=many", member),
      badCursor: await get("/conversations?cursor=bm90LWEtY3Vyc29y", member),
      badDate: await get("/admin/analytics/user-activity?startDate=2026-02-30", admin),
      backwards: await get("/admin/analytics/user-activity?startDate=2026-03-02&endDate=2026-03-01", admin),
      reserved: await post("/activity", member, { action: "login" }),
      notAllowed: await post("/activity", member, { action: "delete_everything" }),
      bigMetadata: await post("/activity", member, { action: "app_opened", metadata: { note: "x".repeat(2_000) } }),
      reservedKey: await post("/activity", member, { action: "app_opened", metadata: { __name__: "x" } }),
      deep: await post("/activity", member, { action: "app_opened", metadata: { a: { b: { c: { d: { e: 1 } } } } } }),
    };
    const withExtra = await post("/activity", member, { action: "app_opened", surprise: true });

    for (const [name, answer] of Object.entries(answers)) {
      const expected = name === "huge" || name === "bigMetadata" ? [413, "PAYLOAD_TOO_LARGE"] : [400, "INVALID_ARGUMENT"];
      expect([answer.status, answer.body.error?.code], name).to.deep.equal(expected);
    }
    expect(answers.notAList.body.error.message).to.match(/^body: userIds: /);
    expect(answers.reserved.body.error.message).to.equal("action: login is recorded by the gateway itself, not by apps.");
    expect(withExtra.status).to.equal(201);
    expect(withExtra.body.activity).to.include({ action: "app_opened", userId: member.uid });
  });

  it("shows over HTTP, eventually, the presence the sockets see: online, a chosen status, then offline with the same last seen", async () => {
    const { alice, bob, aliceSocket, bobSocket } = await pair();

    const online = await eventually(() => presenceOf(alice, bob.uid), { accept: (p) => p?.status === "online" && typeof p.lastActiveAt === "number", what: "Bob online (and his lastActiveAt written) over HTTP", timeoutMs: 10_000, everyMs: 150 });
    await callOk(bobSocket, "update_presence", { status: "busy", customStatus: "at the clinic" });
    const busy = await eventually(() => presenceOf(alice, bob.uid), { accept: (p) => p?.status === "busy", what: "Bob busy over HTTP", timeoutMs: 10_000, everyMs: 150 });
    const { presence: [overSocket] } = await callOk<{ presence: UserPresence[] }>(aliceSocket, "get_presence", { userIds: [bob.uid] });
    const offlineEvent = nextEvent<PresenceUpdatePayload>(aliceSocket, "presence_update");
    bobSocket.disconnect();
    const announced = await offlineEvent;
    const offline = await eventually(() => presenceOf(alice, bob.uid), { accept: (p) => p?.status === "offline", what: "Bob offline over HTTP", timeoutMs: 10_000, everyMs: 150 });
    const single = await get(`/users/${bob.uid}/presence`, alice);

    expect(online).to.include({ userId: bob.uid, isOnline: true, lastSeen: null });
    expect(online.lastActiveAt).to.be.a("number");
    expect(busy).to.include({ status: overSocket.status, customStatus: overSocket.customStatus, isOnline: true });
    expect(announced).to.include({ userId: bob.uid, status: "offline" });
    expect(offline).to.include({ isOnline: false, lastSeen: announced.lastSeen });
    expect(single.status).to.equal(200);
    expect(single.body.presence).to.deep.equal(offline);
  });

  it("keeps presence private: a stranger gets 404 as for an unknown user and is left out of batches; anyone sees itself", async () => {
    const { alice, bob } = await pair();
    const stranger = await createUser({ name: "stranger" });

    const strangerSingle = await get(`/users/${bob.uid}/presence`, stranger);
    const strangerProfile = await get(`/users/${bob.uid}`, stranger);
    const unknown = await get("/users/no-such-user/presence", stranger);
    const batch = await post("/presence/batch", stranger, { userIds: [bob.uid, stranger.uid, "no-such-user"] });
    const own = await get("/users/me/presence", stranger);
    // lastLoginAt is written in batched commits (USER_RECORDS_FLUSH_MS), so it shows shortly after the login.
    const profile = await eventually(() => get(`/users/${bob.uid}`, alice), { accept: (p) => typeof p.body.user?.lastLoginAt === "number", what: "bob's lastLoginAt" });

    expect(strangerSingle.status).to.equal(404);
    expect(strangerSingle.body.error.message).to.equal(`No user ${bob.uid} whose presence you may see.`);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.message).to.equal("No user no-such-user whose presence you may see.");
    expect(strangerProfile.status).to.equal(404);
    expect(batch.body.presence.map((p: UserPresence) => p.userId)).to.deep.equal([stranger.uid]);
    expect(batch.body.notVisible).to.deep.equal([bob.uid, "no-such-user"]);
    expect(own.body.presence).to.include({ userId: stranger.uid, status: "offline" });
    expect(profile.status).to.equal(200);
    expect(profile.body.user).to.include({ userId: bob.uid, displayName: "bob", isOnline: true, status: "online", photoURL: null });
    expect(profile.body.user.lastLoginAt).to.be.a("number");
  });

  it("shows a contact who blocked the caller as offline without details, as the socket does, and never as online", async () => {
    const { alice, bob, bobSocket } = await pair();
    await callOk(bobSocket, "update_presence", { status: "busy", customStatus: "at the clinic" });
    await callOk(bobSocket, "block_user", { userId: alice.uid });

    const seen = await presenceOf(alice, bob.uid);
    const count = await get("/presence/online/count", alice);
    const online = await get("/presence/online", alice);
    const reverse = await presenceOf(bob, alice.uid);

    expect(seen).to.deep.equal({ userId: bob.uid, isOnline: false, status: "offline", lastSeen: null, lastActiveAt: null });
    expect(count.body).to.include({ online: 0, contacts: 0 });
    expect(online.body.users).to.deep.equal([]);
    expect(reverse).to.include({ userId: alice.uid, status: "online" });
  });

  it("lists the caller's online contacts a page at a time and counts them; an admin also gets the total", async () => {
    const { url } = await startGateway();
    const [alice, bob, carol, dave, admin] = await Promise.all(["alice", "bob", "carol", "dave"].map((name) => createUser({ name })).concat(createUser({ name: "admin", claims: { admin: true } })));
    const { socket } = await connectAs(url, alice.idToken);
    await callOk(socket, "create_group", { name: "Village", memberIds: [bob.uid, carol.uid, dave.uid] });
    await Promise.all([connectAs(url, bob.idToken), connectAs(url, carol.idToken), connectAs(url, admin.idToken)]);

    await eventually(() => get("/presence/online/count", alice), { accept: (a) => a.body.online === 2, what: "two contacts online", timeoutMs: 10_000, everyMs: 150 });
    const first = await get("/presence/online?limit=1", alice);
    const second = await get(`/presence/online?limit=1&cursor=${first.body.nextCursor}`, alice);
    const count = await get("/presence/online/count", alice);
    const adminCount = await get("/presence/online/count", admin);

    const shown = [...first.body.users, ...second.body.users].map((u: { userId: string }) => u.userId);
    expect(shown.sort()).to.deep.equal([bob.uid, carol.uid].sort());
    expect(first.body.nextCursor).to.be.a("string");
    expect(second.body.nextCursor).to.equal(null);
    expect(first.body.users[0]).to.include({ isOnline: true, status: "online" });
    expect(count.body).to.deep.equal({ ok: true, online: 2, contacts: 3 });
    expect(adminCount.body).to.include({ online: 0, contacts: 0 });
    expect(adminCount.body.total.onlineUsers).to.equal(4);
  });

  it("lists a member's conversations with presence and last messages, page by page, and one conversation with its messages; others get 404", async () => {
    const { alice, bob, aliceSocket, dm } = await pair();
    const carol = await createUser({ name: "carol" });
    await sendOk(aliceSocket, { recipientId: bob.uid, content: "second" });
    await sendOk(aliceSocket, { recipientId: bob.uid, content: "third" });
    const { conversation: group } = await callOk<{ conversation: { id: string } }>(aliceSocket, "create_group", { name: "Field team", memberIds: [bob.uid, carol.uid] });
    await sendOk(aliceSocket, { conversationId: group.id, content: "welcome" });

    const first = await get("/conversations?limit=1", alice);
    const second = await get(`/conversations?limit=1&cursor=${first.body.nextCursor}`, alice);
    const page = await get(`/conversations/${dm}?limit=2`, alice);
    const older = await get(`/conversations/${dm}?limit=2&beforeSeq=${page.body.nextBeforeSeq}`, alice);
    const outsider = await get(`/conversations/${dm}`, carol);
    const missing = await get("/conversations/no-such-conversation", alice);

    const listed = [...first.body.conversations, ...second.body.conversations];
    expect(listed.map((c: { id: string }) => c.id)).to.deep.equal([group.id, dm]);
    expect(second.body.nextCursor).to.equal(null);
    const [groupEntry, dmEntry] = listed;
    expect(groupEntry).to.include({ type: "group", name: "Field team", memberCount: 3 });
    expect(groupEntry.lastMessage).to.include({ content: "welcome", senderId: alice.uid });
    expect(dmEntry.lastMessage).to.include({ content: "third", seq: 3 });
    expect(dmEntry.participants).to.have.length(1);
    expect(dmEntry.participants[0]).to.include({ userId: bob.uid, displayName: "bob", isOnline: true, status: "online" });
    expect(page.body.conversation).to.include({ id: dm, type: "direct", memberCount: 2 });
    expect(page.body.messages.map((m: { content: string }) => m.content)).to.deep.equal(["second", "third"]);
    expect(page.body).to.include({ hasMore: true, nextBeforeSeq: 2, presenceAvailable: true });
    expect(older.body.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([1]);
    expect(older.body).to.include({ hasMore: false, nextBeforeSeq: null });
    expect(outsider.status).to.equal(404);
    expect(outsider.body.error).to.deep.equal({ code: "NOT_FOUND", message: `No conversation ${dm} that you are a member of.` });
    expect(missing.status).to.equal(404);
  });

  it("answers the 11th request a minute for one user's presence with 429 and retryAfterMs; other callers are not affected", async () => {
    const { alice, bob } = await pair();

    const answers = [];
    for (let i = 0; i < 11; i += 1) answers.push(await get(`/users/${bob.uid}/presence`, alice));
    const otherCaller = await get(`/users/${alice.uid}/presence`, bob);

    expect(answers.slice(0, 10).map((a) => a.status)).to.deep.equal(Array(10).fill(200));
    const limited = answers[10];
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal("RATE_LIMITED");
    expect(limited.body.error.retryAfterMs).to.be.within(1, 60_000);
    expect(Number(limited.headers.get("retry-after"))).to.be.within(1, 60);
    expect(otherCaller.status).to.equal(200);
  });

  it("logs an app's action with device type and country from its headers; analytics refuse members and answer admins", async () => {
    const [member, admin] = await Promise.all([createUser({ name: "member" }), createUser({ name: "admin", claims: { admin: true } })]);
    const headers = { "user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)", "x-appengine-country": "IN", "x-appengine-region": "ts" };

    const logged = await post("/activity", member, { action: "video_watched", targetType: "video", targetId: "v-1", metadata: { watchDuration: 28 } }, headers);
    const memberActivity = await get("/admin/analytics/user-activity", member);
    const memberSessions = await get("/admin/analytics/user-sessions", member);
    const adminView = await get(`/admin/analytics/user-activity?userId=${member.uid}&action=video_watched`, admin);

    expect(logged.status).to.equal(201);
    expect(memberActivity.status).to.equal(403);
    expect(memberActivity.body.error.code).to.equal("PERMISSION_DENIED");
    expect(memberSessions.status).to.equal(403);
    expect(adminView.status).to.equal(200);
    expect(adminView.body.total).to.equal(1);
    expect(adminView.body.activities[0]).to.deep.include({
      userId: member.uid,
      action: "video_watched",
      targetType: "video",
      targetId: "v-1",
      metadata: { watchDuration: 28 },
      deviceType: "android",
      countryCode: "IN",
      region: "ts",
    });
    expect(adminView.body.activities[0].timestamp).to.equal(new Date(adminView.body.activities[0].at).toISOString());
  });

  it("answers an admin's session analytics with the totals of a scripted day, and pages its log with a total", async () => {
    const [admin, member] = await Promise.all([createUser({ name: "admin", claims: { admin: true } }), createUser({ name: "member" })]);
    const { log } = firestoreActivityLog();
    await log.write(scriptedDay({ alice: "u-alice", bob: "u-bob", carol: "u-carol", dave: "u-dave" }));
    await post("/activity", member, { action: "app_opened" });

    const day = await get(`/admin/analytics/user-sessions?startDate=${DAY_ONE}&endDate=${DAY_ONE}`, admin);
    const twoDays = await get(`/admin/analytics/user-sessions?startDate=${DAY_ONE}&endDate=${DAY_TWO}`, admin);
    const logins: string[] = [];
    let cursor: string | null = null;
    let total = 0;
    do {
      const page: Awaited<ReturnType<typeof get>> = await get(`/admin/analytics/user-activity?action=login&startDate=${DAY_ONE}&endDate=${DAY_TWO}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, admin);
      logins.push(...page.body.activities.map((a: { id: string }) => a.id));
      total = page.body.total;
      cursor = page.body.nextCursor;
    } while (cursor);

    expect(day.status).to.equal(200);
    expect(day.body).to.deep.include({ totalSessions: 5, endedSessions: 5, averageSessionDuration: 1_800, activeUsersToday: 1 });
    expect(day.body.activeUsersPerDay).to.deep.equal([{ date: DAY_ONE, activeUsers: 4, sessions: 5 }]);
    expect(day.body.topHours).to.deep.equal([{ hour: 9, sessions: 2 }, { hour: 18, sessions: 2 }, { hour: 23, sessions: 1 }]);
    expect(day.body.actions).to.deep.equal({ login: 5, logout: 4, message_sent: 3 });
    expect(twoDays.body).to.deep.include({ totalSessions: 6, averageSessionDuration: 1_800 });
    expect(twoDays.body.activeUsersPerDay).to.deep.equal([
      { date: DAY_ONE, activeUsers: 4, sessions: 5 },
      { date: DAY_TWO, activeUsers: 2, sessions: 1 },
    ]);
    expect(total).to.equal(6);
    expect(new Set(logins).size).to.equal(6);
  });

  it("answers 503 UNAVAILABLE, not a hang, while Redis or Firestore is unreachable, and recovers by itself", async function () {
    this.timeout(90_000);
    const { alice, bob } = await pair();

    await redisProxy.cut();
    const presence = await get(`/users/${bob.uid}/presence`, alice);
    const conversations = await get("/conversations", alice);
    await redisProxy.open();
    const presenceBack = await eventually(() => get(`/users/me/presence`, alice), { accept: (a) => a.status === 200, what: "presence again", timeoutMs: 30_000, everyMs: 150 });

    await firestoreProxy.cut();
    const list = await get("/conversations", alice);
    const logged = await post("/activity", alice, { action: "app_opened" });
    await firestoreProxy.open();
    const listBack = await eventually(() => get("/conversations", alice), { accept: (a) => a.status === 200, what: "conversations again", timeoutMs: 30_000, everyMs: 150 });

    expect(presence.status).to.equal(503);
    expect(presence.body.error).to.include({ code: "UNAVAILABLE", retryAfterMs: 5_000 });
    expect(conversations.status).to.equal(200);
    expect(conversations.body.presenceAvailable).to.equal(false);
    expect(conversations.body.conversations[0].participants[0]).to.include({ userId: bob.uid, isOnline: null, status: null });
    expect(presenceBack.body.presence.userId).to.equal(alice.uid);
    expect(list.status).to.equal(503);
    expect(list.body.error.code).to.equal("UNAVAILABLE");
    expect(logged.status).to.equal(503);
    expect(listBack.body.conversations).to.have.length(1);
  });
});

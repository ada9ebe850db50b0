import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { ActivityLog, ActivityReader } from "../src/ports/activity-log";
import { ACTIVITY_COLLECTIONS } from "../src/ports/activity-log/firestore-activity-log";
import { MemoryActivityLog } from "../src/ports/activity-log/memory-activity-log";
import { clientContextOf } from "../src/ports/activity-log/client-context";
import { sessionsReport } from "../src/http-api/routes/analytics";
import { TcpProxy } from "../tools/tcp-proxy";
import { freePort } from "../tools/free-port";
import { DAY_ONE, DAY_TWO, firestoreActivityLog, firestoreAt, scriptedDay, session } from "./support/activity";
import { environment } from "./support/environment";
import { connectAs, startGateway } from "./support/gateway";
import { callOk, sendOk } from "./support/messaging";
import { createUser } from "./support/users";
import { eventually } from "./support/wait";

const users = { alice: "u-alice", bob: "u-bob", carol: "u-carol", dave: "u-dave" };
const day = (d: string) => Date.parse(`${d}T00:00:00.000Z`);

const adapters: Array<{ name: string; make: () => { log: ActivityLog; reader: ActivityReader } }> = [
  { name: "Firestore", make: () => firestoreActivityLog() },
  {
    name: "memory",
    make: () => {
      const log = new MemoryActivityLog();
      return { log, reader: log };
    },
  },
];

for (const adapter of adapters) {
  describe(`activity log (${adapter.name})`, () => {
    it("counts a scripted day's sessions at the hours they started, and each active user once a day", async () => {
      const { log, reader } = adapter.make();
      scriptedDay(users).forEach((event) => log.record(event));
      await log.flush();

      const [one, two] = await reader.daily(DAY_ONE, DAY_TWO);
      const report = sessionsReport([one], DAY_ONE, DAY_ONE, one);

      expect(one).to.include({ day: DAY_ONE, sessions: 5, endedSessions: 5, sessionSeconds: 9_000, activeUsers: 4 });
      expect(one.actions).to.deep.equal({ login: 5, logout: 4, message_sent: 3 });
      expect(two).to.include({ day: DAY_TWO, sessions: 1, endedSessions: 1, sessionSeconds: 1_800, activeUsers: 2 });
      expect(report).to.deep.include({ totalSessions: 5, averageSessionDuration: 1_800, activeUsersToday: 4 });
      expect(report.topHours).to.deep.equal([{ hour: 9, sessions: 2 }, { hour: 18, sessions: 2 }, { hour: 23, sessions: 1 }]);
      expect(log.stats()).to.include({ dropped: 0, buffered: 0 });
    });

    it("pages newest first by user, action and range, through ties, with the total of the whole range", async () => {
      const { log, reader } = adapter.make();
      const tied = day(DAY_ONE) + 3_600_000;
      const events = Array.from({ length: 7 }, (_, i) => ({ userId: users.alice, action: "video_watched", at: i < 4 ? tied : tied - i * 1000 }));
      await log.write([...events, { userId: users.bob, action: "video_watched", at: tied }, { userId: users.alice, action: "login", at: tied }]);

      const seen: string[] = [];
      let cursor;
      let total = 0;
      for (let pageNo = 0; pageNo < 10; pageNo += 1) {
        const page = await reader.page({ userId: users.alice, action: "video_watched", from: day(DAY_ONE), to: day(DAY_TWO), limit: 3, cursor });
        total = page.total;
        seen.push(...page.activities.map((a) => a.id));
        expect(page.activities.every((a) => a.userId === users.alice && a.action === "video_watched")).to.equal(true);
        cursor = page.next;
        if (!cursor) break;
      }
      const all = await reader.page({ from: day(DAY_ONE), to: day(DAY_TWO), limit: 100 });
      const before = await reader.page({ from: day(DAY_ONE), to: tied, limit: 100 });

      expect(total).to.equal(7);
      expect(new Set(seen).size).to.equal(7);
      expect(all.total).to.equal(9);
      expect(all.activities.map((a) => a.at)).to.deep.equal([...all.activities.map((a) => a.at)].sort((a, b) => b - a));
      expect(before.total).to.equal(3);
    });
  });
}

describe("activity log (Firestore specifics)", () => {
  it("writes each entry with its TTL expiry and never the counters' history into the log", async () => {
    const { log } = firestoreActivityLog({ retentionDays: 30 });
    const [login] = session(users.alice, DAY_ONE, "10:00", 5);
    await log.write([login]);

    const docs = (await firestore().collection(ACTIVITY_COLLECTIONS.log).get()).docs.map((d) => d.data());
    const shards = await firestore().collection(ACTIVITY_COLLECTIONS.daily).get();
    const mark = await firestore().collection(ACTIVITY_COLLECTIONS.activeUsers).doc(`${DAY_ONE}_${users.alice}`).get();

    expect(docs).to.have.length(1);
    expect(docs[0].expireAt.toMillis()).to.equal(login.at + 30 * 86_400_000);
    expect(docs[0]).to.include({ userId: users.alice, action: "login", at: login.at });
    expect(shards.size).to.equal(1);
    expect(mark.get("expireAt").toMillis()).to.equal(login.at + 30 * 86_400_000);
  });

  it("counts a user active once a day even across processes (the mark, not the process, decides)", async () => {
    const first = firestoreActivityLog();
    const second = firestoreActivityLog();
    await first.log.write(session(users.alice, DAY_ONE, "09:00", 1));
    await second.log.write(session(users.alice, DAY_ONE, "12:00", 1));

    const [counters] = await first.reader.daily(DAY_ONE, DAY_ONE);

    expect(counters).to.include({ sessions: 2, activeUsers: 1 });
  });

  it("drops and counts entries while Firestore is unreachable, never throws from record, and resumes", async function () {
    this.timeout(90_000);
    const direct = environment().firestore.host;
    const [host, port] = direct.split(":");
    const proxy = new TcpProxy(await freePort(), { host, port: Number(port) });
    await proxy.open();
    const db = firestoreAt(proxy.address);
    const { log, reader } = firestoreActivityLog({ timeoutMs: 3_000, bufferMax: 5 }, db);
    try {
      await db.collection(ACTIVITY_COLLECTIONS.log).limit(1).get(); // the first connection's set-up is not what is measured
      await log.write(session(users.alice, DAY_ONE, "08:00", 1));
      await proxy.cut();
      for (let i = 0; i < 8; i += 1) log.record({ userId: users.bob, action: "message_sent", at: day(DAY_ONE) + i });
      await log.flush();
      const during = log.stats();
      await proxy.open();
      // The client reconnects with a backoff: entries recorded meanwhile may still be dropped, then they are written again.
      await eventually(async () => {
        log.record({ userId: users.carol, action: "app_opened", at: day(DAY_ONE) + 20 * 3_600_000 });
        await log.flush();
        return log.stats().written;
      }, { accept: (written) => written > 2, what: "a commit after Firestore came back", timeoutMs: 60_000, everyMs: 200 });

      const [counters] = await reader.daily(DAY_ONE, DAY_ONE);
      expect(during).to.include({ buffered: 0, dropped: 8, failedCommits: 1 });
      expect(log.stats().written).to.be.at.least(3);
      // A commit given up on may still land later (the client retries it once Firestore is back): "dropped"
      // means "not confirmed", so only what was confirmed is certain here.
      expect(counters.sessions).to.equal(1);
      expect(counters.actions.app_opened).to.be.at.least(1);
    } finally {
      await proxy.close();
      await db.terminate();
    }
  });
});

describe("client context from headers", () => {
  const names = { countryHeaders: ["x-appengine-country", "x-client-region"], regionHeaders: ["x-appengine-region"] };

  it("takes the platform header, else the user agent; the first two-letter country; a printable region", () => {
    expect(clientContextOf({ "x-client-platform": "iOS", "user-agent": "Dart/3.5 (dart:io)" }, names)).to.deep.equal({ deviceType: "ios" });
    expect(clientContextOf({ "user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)", "x-appengine-country": "ZZ", "x-client-region": "in" }, names)).to.deep.equal({
      deviceType: "android",
      countryCode: "IN",
    });
    expect(clientContextOf({ "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0", "x-appengine-region": "ts\u0007" }, names)).to.deep.equal({ deviceType: "web", region: "ts" });
    expect(clientContextOf({ "x-appengine-country": "India" }, names)).to.deep.equal({ deviceType: "unknown" });
  });
});

describe("the gateway's activity entries", function () {
  this.timeout(30_000);

  it("logs login, message_sent (no content), group_created and logout with the session's length; not anonymous sends", async () => {
    const { url } = await startGateway({ activityFlushMs: 50 });
    const [alice, bob, carol] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" }), createUser({ name: "carol" })]);
    const { socket } = await connectAs(url, alice.idToken, { extraHeaders: { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "x-appengine-country": "IN" } });
    await connectAs(url, bob.idToken);
    const sent = await sendOk(socket, { recipientId: bob.uid, content: "a secret that must not be logged" });
    await sendOk(socket, { recipientId: bob.uid, clientId: "same-twice", content: "x" });
    await sendOk(socket, { recipientId: bob.uid, clientId: "same-twice", content: "x" });
    const { conversation } = await callOk<{ conversation: { id: string } }>(socket, "create_group", { name: "Field team", memberIds: [bob.uid, carol.uid] });
    await sendOk(socket, { conversationId: conversation.id, content: "who am I?", isAnonymous: true });
    socket.disconnect();

    const entries = await eventually(async () => {
      const docs = (await firestore().collection(ACTIVITY_COLLECTIONS.log).where("userId", "==", alice.uid).get()).docs.map((d) => d.data());
      return docs;
    }, { accept: (docs) => docs.some((d) => d.action === "logout"), what: "the logout entry", timeoutMs: 10_000, everyMs: 100 });
    const byAction = (action: string) => entries.filter((e) => e.action === action);

    expect(byAction("login")).to.have.length(1);
    expect(byAction("login")[0]).to.include({ deviceType: "ios", countryCode: "IN" });
    expect(byAction("message_sent")).to.have.length(2);
    expect(byAction("message_sent")[0]).to.deep.include({ targetType: "conversation", targetId: sent.conversationId, metadata: { conversationId: sent.conversationId, type: "text" } });
    expect(JSON.stringify(entries)).not.to.include("secret");
    expect(byAction("group_created")[0]).to.deep.include({ targetId: conversation.id, metadata: { members: 3, announcement: false } });
    const logout = byAction("logout")[0];
    expect(logout.metadata.sessionStartedAt).to.equal(byAction("login")[0].at);
    expect(logout.metadata.durationSeconds).to.equal(Math.round((logout.at - logout.metadata.sessionStartedAt) / 1000));
    expect(entries.filter((e) => e.targetId === conversation.id && e.action === "message_sent")).to.have.length(0);
  });
});

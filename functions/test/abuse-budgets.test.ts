import { expect } from "chai";
import { defaultConfig } from "../src/config";
import { CachedUserRecords } from "../src/ports/user-records/cached-user-records";
import { MemoryUserRecords } from "../src/ports/user-records/memory-user-records";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, sendOk } from "./support/messaging";
import { createUser } from "./support/users";

/** Every client call the gateway registers (issue 12: each has a budget in config.rateLimits). */
const CALLS = [
  "heartbeat", "typing_start", "typing_stop", "mark_delivered", "mark_read", "get_receipts", "update_presence", "get_presence",
  "presence_subscribe", "presence_unsubscribe", "create_group", "add_members", "remove_members", "fetch_history", "list_conversations",
];

describe("abuse: every call has a budget", () => {
  it("declares a default rule for every client call", () => {
    for (const event of CALLS) expect(defaultConfig.rateLimits, event).to.have.property(event === "typing_start" ? "typing" : event);
  });

  it("refuses fetch_history past its budget with RATE_LIMITED and retryAfterMs; another user is unaffected", async () => {
    const abuser = await createUser({ name: "abuser" });
    const bystander = await createUser({ name: "bystander" });
    const friend = await createUser({ name: "friend" });
    const { url } = await startGateway({ rateLimits: { fetch_history: { limit: 5, windowMs: 60_000 } } });
    const a = await connectAs(url, abuser.idToken);
    const b = await connectAs(url, bystander.idToken);
    const { conversationId } = await sendOk(a.socket, { recipientId: friend.uid, content: "hi" });
    const { conversationId: theirs } = await sendOk(b.socket, { recipientId: friend.uid, content: "hi" });

    for (let i = 0; i < 5; i += 1) await callOk(a.socket, "fetch_history", { conversationId });
    const refused = await call(a.socket, "fetch_history", { conversationId });
    const other = await call(b.socket, "fetch_history", { conversationId: theirs });

    expect(refused.ok).to.equal(false);
    if (!refused.ok) {
      expect(refused.error.code).to.equal("RATE_LIMITED");
      expect(refused.error.retryAfterMs).to.be.within(1, 60_000);
    }
    expect(other.ok).to.equal(true);
  });

  it("refuses get_presence past its budget", async () => {
    const abuser = await createUser({ name: "abuser" });
    const { url } = await startGateway({ rateLimits: { get_presence: { limit: 2, windowMs: 60_000 } } });
    const a = await connectAs(url, abuser.idToken);
    await callOk(a.socket, "get_presence", { userIds: ["nobody-1"] });
    await callOk(a.socket, "get_presence", { userIds: ["nobody-2"] });
    const refused = await call(a.socket, "get_presence", { userIds: ["nobody-3"] });
    expect(refused.ok).to.equal(false);
    if (!refused.ok) expect(refused.error.code).to.equal("RATE_LIMITED");
  });

  it("looks up many unknown ids in chunks of at most 100, and asks again for none of them (negative answers cached)", async () => {
    const asked: string[][] = [];
    const inner = new MemoryUserRecords();
    const counting = Object.assign(Object.create(inner), {
      lastSeenOf: (uids: string[]) => {
        asked.push(uids);
        return inner.lastSeenOf(uids);
      },
    });
    const records = new CachedUserRecords(counting, { ttlMs: 60_000, concurrency: 2 });
    const ids = Array.from({ length: 500 }, (_, i) => `unknown-${i}`);
    await records.lastSeenOf(ids);
    await records.lastSeenOf(ids);
    expect(asked).to.have.length(5);
    expect(Math.max(...asked.map((a) => a.length))).to.equal(100);
  });
});

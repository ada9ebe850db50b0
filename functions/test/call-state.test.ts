import { expect } from "chai";
import Redis from "ioredis";
import { randomUUID } from "node:crypto";
import { CallStatePort, CallTtls, MemoryCallState, RedisCallState } from "../src/ports/call-state";
import { environment } from "./support/environment";

// The same transitions on both adapters: Redis (Lua scripts, shared by instances) and memory (one process).

const ttls: CallTtls = { ringingMs: 60_000, activeMs: 60_000, endedMs: 60_000 };
const connections: Redis[] = [];

function adapters(): Array<[string, () => CallStatePort]> {
  return [
    ["memory", () => new MemoryCallState()],
    [
      "redis",
      () => {
        const redis = new Redis(environment().redis.url, { maxRetriesPerRequest: 1 });
        redis.on("error", () => undefined);
        connections.push(redis);
        return new RedisCallState(redis, `test:call:${randomUUID()}:`, `test:line:${randomUUID()}:`);
      },
    ],
  ];
}

const newCall = (callerId: string, calleeIds: string[]) => ({ id: randomUUID(), callerId, callerSocket: `s-${callerId}`, conversationId: null, media: "audio" as const, calleeIds, createdAt: 1 });

describe("call state adapters", () => {
  after(() => Promise.all(connections.splice(0).map((c) => c.quit().catch(() => c.disconnect()))));
  for (const [name, make] of adapters()) {
    describe(name, () => {
      it("rings, answers once, frees the other callees' lines and ends once", async () => {
        const calls = make();
        const created = await calls.create(newCall("a", ["b", "c"]), ttls);
        if (!created.created) throw new Error("not created");
        expect(created.call).to.deep.include({ state: "ringing", calleeIds: ["b", "c"], answeredBy: null, gone: {} });
        expect(await calls.lineOf("c")).to.equal(created.call.id);

        const first = await calls.answer(created.call.id, "b", "s-b", 5, ttls);
        expect(first.answered).to.equal(true);
        expect(first.call).to.deep.include({ state: "active", answeredBy: "b", answeredSocket: "s-b", answeredAt: 5 });
        expect((await calls.answer(created.call.id, "c", "s-c", 6, ttls)).answered).to.equal(false);
        expect(await calls.lineOf("c")).to.equal(undefined);

        expect(await calls.end(created.call.id, "missed", null, ["ringing"], 7, ttls)).to.equal(undefined);
        const ended = await calls.end(created.call.id, "ended", "a", ["ringing", "active"], 7, ttls);
        expect(ended).to.deep.include({ state: "ended", endedReason: "ended", endedBy: "a" });
        expect(await calls.end(created.call.id, "ended", "a", ["ringing", "active"], 8, ttls)).to.equal(undefined);
        expect(await calls.lineOf("a")).to.equal(undefined);
        expect(await calls.lineOf("b")).to.equal(undefined);
      });

      it("leaves busy callees out, refuses a busy caller, ends when the last callee rejects", async () => {
        const calls = make();
        const busy = await calls.create(newCall("x", ["y"]), ttls);
        expect(busy.created).to.equal(true);
        expect(await calls.create(newCall("z", ["y"]), ttls)).to.deep.equal({ created: false, reason: "all_busy", busy: ["y"] });
        expect(await calls.create(newCall("x", ["z"]), ttls)).to.deep.equal({ created: false, reason: "caller_busy", busy: [] });

        const group = await calls.create(newCall("p", ["q", "r", "y"]), ttls);
        if (!group.created) throw new Error("not created");
        expect(group.call.calleeIds).to.deep.equal(["q", "r"]);
        expect(group.busy).to.deep.equal(["y"]);
        expect(await calls.reject(group.call.id, "q", 2, ttls)).to.deep.include({ rejected: true, ended: false });
        expect((await calls.reject(group.call.id, "q", 2, ttls)).rejected).to.equal(false);
        const last = await calls.reject(group.call.id, "r", 3, ttls);
        expect(last).to.deep.include({ rejected: true, ended: true });
        expect(last.call).to.deep.include({ state: "ended", endedReason: "rejected", endedBy: "r", calleeIds: [] });
      });

      it("a gone party ends the call only while still gone; a new socket takes its place", async () => {
        const calls = make();
        const created = await calls.create(newCall("a", ["b"]), ttls);
        if (!created.created) throw new Error("not created");
        const id = created.call.id;
        await calls.answer(id, "b", "s-b", 2, ttls);
        expect(await calls.markGone(id, "b", "not-the-party-socket", ttls)).to.deep.equal({ outcome: "ignored" });
        expect(await calls.markGone(id, "b", "s-b", ttls)).to.deep.equal({ outcome: "gone" });
        const resumed = await calls.rebind(id, "b", "s-b2", ttls);
        expect(resumed).to.deep.include({ answeredSocket: "s-b2", gone: {} });
        expect(await calls.end(id, "disconnected", "b", ["active"], 3, ttls, { uid: "b", socketId: "s-b" })).to.equal(undefined);
        expect(await calls.rebind(id, "b", "s-b3", ttls)).to.equal(undefined);

        expect(await calls.markGone(id, "a", "s-a", ttls)).to.deep.equal({ outcome: "gone" });
        const ended = await calls.end(id, "disconnected", "a", ["active"], 4, ttls, { uid: "a", socketId: "s-a" });
        expect(ended).to.deep.include({ state: "ended", endedReason: "disconnected" });
      });

      it("a standby socket of a party takes over when the party socket disconnects", async () => {
        const calls = make();
        const created = await calls.create(newCall("a", ["b"]), ttls);
        if (!created.created) throw new Error("not created");
        const id = created.call.id;
        expect(await calls.standby(id, "b", "s-b2", ttls)).to.equal(false); // b is not a party before answering
        await calls.answer(id, "b", "s-b", 2, ttls);
        expect(await calls.standby(id, "b", "s-b", ttls)).to.equal(false); // already the party socket
        expect(await calls.standby(id, "b", "s-b2", ttls)).to.equal(true);
        expect(await calls.standby(id, "b", "s-b3", ttls)).to.equal(true);
        expect(await calls.markGone(id, "b", "s-b3", ttls)).to.deep.equal({ outcome: "ignored" }); // the standby left
        expect(await calls.markGone(id, "b", "s-b", ttls)).to.deep.equal({ outcome: "gone" }); // none left to take over

        const rebound = await calls.rebind(id, "b", "s-b4", ttls);
        expect(rebound?.answeredSocket).to.equal("s-b4");
        await calls.standby(id, "b", "s-b5", ttls);
        const taken = await calls.markGone(id, "b", "s-b4", ttls);
        expect(taken.outcome).to.equal("taken_over");
        if (taken.outcome !== "taken_over") return;
        expect(taken.socketId).to.equal("s-b5");
        expect(taken.call).to.deep.include({ answeredSocket: "s-b5", standby: {}, gone: {} });
      });
    });
  }
});

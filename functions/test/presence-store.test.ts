import { expect } from "chai";
import Redis from "ioredis";
import { MemoryPresenceStore } from "../src/ports/presence-store/memory-presence-store";
import type { PresenceStore } from "../src/ports/presence-store/presence-store";
import { RedisPresenceStore } from "../src/ports/presence-store/redis-presence-store";
import { environment } from "./support/environment";

const stores: Array<{ name: string; make: () => { store: PresenceStore; close(): void } }> = [
  { name: "memory", make: () => ({ store: new MemoryPresenceStore(), close() {} }) },
  {
    name: "redis",
    make: () => {
      const redis = new Redis(environment().redis.url, { maxRetriesPerRequest: 1 });
      return { store: new RedisPresenceStore(redis), close: () => redis.disconnect() };
    },
  },
];

for (const { name, make } of stores) {
  describe(`presence store (${name})`, () => {
    let subject: ReturnType<typeof make>;
    beforeEach(() => (subject = make()));
    afterEach(() => subject.close());

    it("sweeps more expired connections than one batch holds, and counts what is left", async () => {
      const { store } = subject;
      const now = 1_000_000;
      for (let i = 0; i < 2_500; i += 1) await store.upsertConnection({ uid: `u${i}`, connId: `gone-${i}` }, now - 1, true, now - 2_000);
      await store.upsertConnection({ uid: "u0", connId: "alive" }, now + 10_000, false, now);
      await store.upsertConnection({ uid: "keeper", connId: "k" }, now + 10_000, true, now);

      const changes = await store.sweepExpired(now, 1_500, 1_000);

      expect(changes).to.have.length(2_500);
      expect(changes.find((c) => c.uid === "u0")).to.include({ before: "online", after: "away" });
      expect(changes.find((c) => c.uid === "u1")).to.include({ before: "online", after: "offline", lastSeen: now - 1 - 1_500 });
      expect(await store.counts()).to.deep.equal({ onlineUsers: 2, connections: 2, byStatus: { online: 1, away: 1, busy: 0 } });
      expect([...(await store.onlineUsers(["u0", "u1", "keeper"]))]).to.have.members(["u0", "keeper"]);
    });

    it("keeps a chosen status across reconnects and reports no change for repeated writes", async () => {
      const { store } = subject;
      const conn = { uid: "alice", connId: "c1" };
      expect(await store.upsertConnection(conn, 10_000, true, 1)).to.include({ before: "offline", after: "online", changed: true });
      expect(await store.upsertConnection(conn, 20_000, true, 2)).to.include({ changed: false });
      expect(await store.setChosen("alice", { status: "busy", customStatus: "deep work" }, 3)).to.include({ after: "busy", customStatus: "deep work" });
      expect(await store.removeConnection(conn, 4)).to.include({ after: "offline", lastSeen: 4, changed: true });

      expect(await store.get(["alice"])).to.deep.equal([{ userId: "alice", status: "offline", lastSeen: 4 }]);
      await store.upsertConnection({ uid: "alice", connId: "c2" }, 30_000, true, 5);
      expect(await store.get(["alice"])).to.deep.equal([{ userId: "alice", status: "busy", customStatus: "deep work" }]);
    });
  });
}

/** The client's storage adapters behave alike: memory, and IndexedDB (fake-indexeddb, a spec implementation, in Node). */
import { expect } from "chai";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { IndexedDbStorage, MemoryStorage, type ClientStorage } from "../../client/src/index.js";

const adapters: Array<[string, () => ClientStorage]> = [
  ["MemoryStorage", () => new MemoryStorage()],
  ["IndexedDbStorage", () => new IndexedDbStorage(`talowa-test-${Math.random()}`, { indexedDB: new IDBFactory(), IDBKeyRange })],
];

for (const [name, make] of adapters) {
  describe(`client storage: ${name}`, () => {
    it("keeps JSON values by key, lists them by prefix, and deletes them", async () => {
      const storage = make();
      await storage.set("cursor:dm_a_b", 7);
      await storage.set("cursor:grp_1", 3);
      await storage.set("outbox:c1", { clientId: "c1", payload: { content: "hi" } });
      await storage.set("cursor:dm_a_b", 9);

      expect(await storage.get("cursor:dm_a_b")).to.equal(9);
      expect(await storage.get("missing")).to.equal(undefined);
      expect((await storage.entries("cursor:")).sort()).to.deep.equal([
        ["cursor:dm_a_b", 9],
        ["cursor:grp_1", 3],
      ]);
      await storage.delete("outbox:c1");
      expect(await storage.entries("outbox:")).to.deep.equal([]);
    });
  });
}

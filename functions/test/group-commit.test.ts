import { expect } from "chai";
import type { WriteBatch } from "firebase-admin/firestore";
import { firestore } from "../src/firebase";
import { ChatMessage } from "../src/protocol";
import { FirestoreMessageStore } from "../src/ports/message-store/firestore-message-store";
import type { GroupCommitOptions } from "../src/ports/message-store/group-commit";

/**
 * Group commit in the Firestore message store, against the Firestore emulator: concurrent appends share
 * batched commits, and every message is still stored and answered exactly once, on its own merits.
 */

const RETENTION_MS = 7 * 86_400_000;
/** A wide window, so that appends started together surely share one commit. */
const GROUPED: GroupCommitOptions = { windowMs: 25, maxMessages: 100, maxWrites: 500 };

const message = (conversationId: string, seq: number, id = `${conversationId}-m${seq}`): ChatMessage => ({
  id,
  conversationId,
  seq,
  senderId: "u1",
  type: "text",
  content: `message ${seq}`,
  encryptionLevel: "standard",
  isAnonymous: false,
  clientId: `c${seq}`,
  clientTimestamp: null,
  createdAt: 1_000 + seq,
  metadata: {},
});

/** Counts commits and can make chosen ones fail (as a Firestore outage would), like the real client's errors. */
function commitSpy(failWhen: (commitNumber: number) => boolean = () => false) {
  const spy = {
    commits: 0,
    commit: (batch: WriteBatch) => {
      spy.commits += 1;
      if (failWhen(spy.commits)) return Promise.reject(Object.assign(new Error("14 UNAVAILABLE: injected"), { code: 14 }));
      return batch.commit();
    },
  };
  return spy;
}

async function storedIds(store: FirestoreMessageStore, conversationId: string): Promise<string[]> {
  return (await store.history(conversationId, { afterSeq: 0, limit: 500 })).map((m) => m.id);
}

describe("group commit (Firestore message store)", () => {
  it("stores and acks each of many concurrent messages exactly once, in fewer commits than messages", async () => {
    const spy = commitSpy();
    const store = new FirestoreMessageStore(firestore(), RETENTION_MS, GROUPED, spy.commit);
    const messages = Array.from({ length: 40 }, (_, i) => message("g1", i + 1));

    const results = await Promise.all(messages.map((m) => store.appendMessage(m, { queueFor: ["u2"] })));

    expect(results.map((r) => r.duplicate)).to.deep.equal(messages.map(() => false));
    expect(results.map((r) => r.message.id)).to.deep.equal(messages.map((m) => m.id));
    expect(await storedIds(store, "g1")).to.deep.equal(messages.map((m) => m.id));
    expect((await store.pendingFor("u2", 500)).map((e) => e.messageId)).to.deep.equal(messages.map((m) => m.id));
    expect(spy.commits).to.be.lessThan(messages.length);
    expect(store.groupCommitFigures()).to.include({ messages: 40, duplicates: 0, failedCommits: 0 });
  });

  it("answers a duplicate inside a batch with duplicate: true and stores its neighbours", async () => {
    const spy = commitSpy();
    const store = new FirestoreMessageStore(firestore(), RETENTION_MS, GROUPED, spy.commit);
    const original = message("g1", 1);
    await store.appendMessage(original, { queueFor: ["u2"] });

    // The retry carries another seq and content: the stored message wins, and nothing of the retry is written.
    const retry = { ...message("g1", 7, original.id), content: "retried" };
    const [before, dup, after] = await Promise.all([
      store.appendMessage(message("g1", 2), { queueFor: ["u2"] }),
      store.appendMessage(retry, { queueFor: ["u3"] }),
      store.appendMessage(message("g1", 3), { queueFor: ["u2"] }),
    ]);

    expect(dup).to.deep.equal({ message: original, duplicate: true });
    expect(before.duplicate).to.equal(false);
    expect(after.duplicate).to.equal(false);
    expect(await storedIds(store, "g1")).to.deep.equal([original.id, "g1-m2", "g1-m3"]);
    expect(await store.pendingFor("u3", 10)).to.deep.equal([]);
    expect((await store.pendingFor("u2", 10)).map((e) => e.messageId)).to.deep.equal([original.id, "g1-m2", "g1-m3"]);
  });

  it("stores a message sent twice within one batch once, answering the second duplicate: true", async () => {
    const store = new FirestoreMessageStore(firestore(), RETENTION_MS, GROUPED);
    const m = message("g1", 1);

    const [first, second] = await Promise.all([store.appendMessage(m, { queueFor: [] }), store.appendMessage({ ...m }, { queueFor: [] })]);

    expect(first.duplicate).to.equal(false);
    expect(second).to.deep.equal({ message: m, duplicate: true });
    expect(await storedIds(store, "g1")).to.deep.equal([m.id]);
  });

  it("fails only the messages of a failed commit; later batches are stored", async () => {
    const spy = commitSpy((n) => n === 1);
    const store = new FirestoreMessageStore(firestore(), RETENTION_MS, GROUPED, spy.commit);

    const firstBatch = await Promise.allSettled([1, 2, 3].map((seq) => store.appendMessage(message("g1", seq), { queueFor: ["u2"] })));
    const secondBatch = await Promise.all([4, 5].map((seq) => store.appendMessage(message("g1", seq), { queueFor: ["u2"] })));

    expect(firstBatch.map((r) => r.status)).to.deep.equal(["rejected", "rejected", "rejected"]);
    expect(secondBatch.map((r) => r.duplicate)).to.deep.equal([false, false]);
    expect(await storedIds(store, "g1")).to.deep.equal(["g1-m4", "g1-m5"]);
    // A retry of a failed message (same id) is stored as a new message, not answered as a duplicate.
    const retried = await store.appendMessage(message("g1", 1), { queueFor: ["u2"] });
    expect(retried.duplicate).to.equal(false);
    expect(await storedIds(store, "g1")).to.deep.equal(["g1-m1", "g1-m4", "g1-m5"]);
  });

  it("keeps a commit within 500 writes: a batch that would pass it is split", async () => {
    const spy = commitSpy();
    const store = new FirestoreMessageStore(firestore(), RETENTION_MS, { ...GROUPED, maxMessages: 500 }, spy.commit);
    const recipients = Array.from({ length: 199 }, (_, i) => `r${i}`);

    // Three messages of 200 writes each (message + 199 queue entries): at most two fit one commit.
    const results = await Promise.all([1, 2, 3].map((seq) => store.appendMessage(message("g1", seq), { queueFor: recipients })));

    expect(results.every((r) => !r.duplicate)).to.equal(true);
    expect(spy.commits).to.equal(2);
    expect((await store.pendingFor("r0", 10)).map((e) => e.seq)).to.deep.equal([1, 2, 3]);
  });
});

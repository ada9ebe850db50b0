import { assertFails, assertSucceeds, initializeTestEnvironment, RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { environment } from "./support/environment";

const rules = readFileSync(join(__dirname, "..", "..", "firestore.rules"), "utf8");
const SKIP_REASON =
  "skipped: the in-process Node Firestore emulator does not evaluate security rules; run `npm run test:emulators` " +
  "on a machine with the official Firestore emulator (Java 21+) to run these";

/**
 * firestore.rules against the official emulator (the only one that evaluates rules). Detected at run
 * time: with the Node emulator these tests are reported as skipped, with the reason.
 */
describe("firestore.rules", function () {
  let rulesEnv: RulesTestEnvironment;

  before(async function () {
    const { firestore, projectId } = environment();
    if (firestore.kind !== "official") {
      process.stdout.write(`    ${SKIP_REASON}\n`);
      this.skip();
    }
    const [host, port] = firestore.host.split(":");
    rulesEnv = await initializeTestEnvironment({ projectId, firestore: { rules, host, port: Number(port) } });
  });

  // The root hooks clear Firestore before each test, so the documents are written again each time.
  beforeEach(async () => {
    await rulesEnv.withSecurityRulesDisabled(async (context) => {
      const db = context.firestore();
      await db.doc("users/alice").set({ lastSeen: 1 });
      await db.doc("users/bob").set({ lastSeen: 1 });
      await db.doc("conversations/c1").set({ type: "group", members: ["alice", "bob"], updatedAt: 1 });
      await db.doc("conversations/c1/messages/m1").set({ seq: 1, content: "hi", senderId: "alice" });
      await db.doc("conversations/c2").set({ type: "direct", members: ["bob", "carol"], updatedAt: 1 });
      await db.doc("offline_queue/alice_m1").set({ recipientId: "alice", delivered: false });
    });
  });

  after(async () => {
    await rulesEnv?.cleanup();
  });

  const as = (uid: string) => rulesEnv.authenticatedContext(uid).firestore();

  it("lets a user read their own user record and no one else's", async () => {
    await assertSucceeds(as("alice").doc("users/alice").get());
    await assertFails(as("alice").doc("users/bob").get());
    await assertFails(rulesEnv.unauthenticatedContext().firestore().doc("users/alice").get());
  });

  it("hides from a member added later the messages before its join (historyVisibility joined, issue 12)", async () => {
    await rulesEnv.withSecurityRulesDisabled(async (context) => {
      const db = context.firestore();
      await db.doc("conversations/c1").set({ type: "group", members: ["alice", "bob", "dave"], updatedAt: 1 });
      await db.doc("conversations/c1/messages/m2").set({ seq: 2, content: "after the join", senderId: "alice" });
      await db.doc("conversation_history/c1/joins/dave").set({ afterSeq: 1 });
    });
    await assertFails(as("dave").doc("conversations/c1/messages/m1").get());
    await assertSucceeds(as("dave").doc("conversations/c1/messages/m2").get());
    await assertSucceeds(as("alice").doc("conversations/c1/messages/m1").get());
    await assertFails(as("dave").doc("conversation_history/c1/joins/dave").get());
  });

  it("lets members read their conversations and messages, and nobody else", async () => {
    await assertSucceeds(as("alice").doc("conversations/c1").get());
    await assertSucceeds(as("alice").doc("conversations/c1/messages/m1").get());
    await assertSucceeds(as("alice").collection("conversations").where("members", "array-contains", "alice").get());
    await assertFails(as("alice").doc("conversations/c2").get());
    await assertFails(as("carol").doc("conversations/c1/messages/m1").get());
    await assertFails(as("alice").collection("conversations").get());
  });

  it("refuses every client write: messages, queues, presence, user records", async () => {
    await assertFails(as("alice").doc("conversations/c1/messages/m2").set({ content: "forged" }));
    await assertFails(as("alice").doc("conversations/c1").update({ members: ["alice", "bob", "mallory"] }));
    await assertFails(as("alice").doc("offline_queue/alice_m1").update({ delivered: true }));
    await assertFails(as("alice").doc("offline_queue/alice_m1").get());
    await assertFails(as("alice").doc("users/alice").set({ presence: { status: "online" } }));
    await assertFails(as("alice").doc("emergency_broadcasts/b1").set({ title: "fake" }));
  });

  it("keeps the activity log and its counters server-only: no client reads or writes, not even its own entries", async () => {
    await rulesEnv.withSecurityRulesDisabled(async (context) => {
      await context.firestore().doc("activity_logs/e1").set({ userId: "alice", action: "login", at: 1 });
    });
    await assertFails(as("alice").doc("activity_logs/e1").get());
    await assertFails(as("alice").collection("activity_logs").where("userId", "==", "alice").get());
    await assertFails(as("alice").doc("activity_logs/e2").set({ userId: "alice", action: "login", at: 2 }));
    await assertFails(as("alice").doc("activity_daily/2026-03-02_0").set({ sessions: 1000 }));
    await assertFails(as("alice").doc("activity_active_users/2026-03-02_alice").get());
  });
});

import { expect } from "chai";
import { firebaseAuth } from "../src/firebase";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk } from "./support/messaging";
import { createUser } from "./support/users";

describe("user lookup (find_user, get_profiles)", () => {
  it("find_user: finds another user by email, case-insensitively, and reveals only uid and display name", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const { socket } = await connectAs(url, alice.idToken);

    const answer = await callOk<{ user: Record<string, unknown> }>(socket, "find_user", { email: `  ${bob.email.toUpperCase()} ` });

    expect(answer.user).to.deep.equal({ uid: bob.uid, displayName: "bob" });
  });

  it("find_user: an unknown email, a disabled account and one's own email all answer NOT_FOUND alike", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    await firebaseAuth().updateUser(bob.uid, { disabled: true });
    const { url } = await startGateway();
    const { socket } = await connectAs(url, alice.idToken);

    const answers = await Promise.all(["nobody@talowa.test", bob.email, alice.email].map((email) => call(socket, "find_user", { email })));

    expect(answers.map((a) => (a.ok ? "ok" : a.error.code))).to.deep.equal(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    expect(new Set(answers.map((a) => (a.ok ? "" : a.error.message))).size).to.equal(1);
  });

  it("an attacker guessing emails in bulk is rate-limited (shared lookup budget), with retryAfterMs", async () => {
    const alice = await createUser({ name: "alice" });
    const { url } = await startGateway({ rateLimits: { lookup: { limit: 5, windowMs: 60_000 } } });
    const { socket } = await connectAs(url, alice.idToken);

    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await call(socket, i % 2 ? "get_profiles" : "find_user", i % 2 ? { userIds: [alice.uid] } : { email: `guess${i}@talowa.test` }));

    const last = answers[5];
    expect(answers.slice(0, 5).map((a) => (a.ok ? "ok" : a.error.code))).to.deep.equal(["NOT_FOUND", "ok", "NOT_FOUND", "ok", "NOT_FOUND"]);
    expect(last.ok).to.equal(false);
    if (!last.ok) {
      expect(last.error.code).to.equal("RATE_LIMITED");
      expect(last.error.retryAfterMs).to.be.greaterThan(0);
    }
  });

  it("get_profiles: display names of known users; unknown ones are left out; never an email", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const { socket } = await connectAs(url, alice.idToken);

    const { profiles } = await callOk<{ profiles: Array<Record<string, unknown>> }>(socket, "get_profiles", { userIds: [bob.uid, "no-such-user", bob.uid] });

    expect(profiles).to.deep.equal([{ uid: bob.uid, displayName: "bob" }]);
  });

  it("bad input: a malformed email, an empty or oversized id list, wrong types: INVALID_ARGUMENT naming the field", async () => {
    const alice = await createUser({ name: "alice" });
    const { url } = await startGateway();
    const { socket } = await connectAs(url, alice.idToken);

    const answers = await Promise.all([
      call(socket, "find_user", { email: "not-an-email" }),
      call(socket, "find_user", { email: 42 }),
      call(socket, "find_user", {}),
      call(socket, "get_profiles", { userIds: [] }),
      call(socket, "get_profiles", { userIds: Array.from({ length: 101 }, (_, i) => `u${i}`) }),
      call(socket, "get_profiles", { userIds: "bob" }),
    ]);

    expect(answers.map((a) => (a.ok ? "ok" : a.error.code))).to.deep.equal(Array(6).fill("INVALID_ARGUMENT"));
    expect(answers.map((a) => (a.ok ? "" : a.error.message.split(":")[0]))).to.deep.equal(["email", "email", "email", "userIds", "userIds", "userIds"]);
  });
});

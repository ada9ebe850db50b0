import { expect } from "chai";
import Redis from "ioredis";
import { createControlHandler } from "../src/control/control-handler";
import { FleetGatewayHost } from "../src/control/fleet-host";
import { firebaseAuth } from "../src/firebase";
import { MemoryBroadcastStore } from "../src/ports/broadcast-store/memory-broadcast-store";
import { FirebaseAccountState } from "../src/ports/account-state/firebase-account-state";
import { systemClock } from "../src/ports/clock";
import { silentLogger } from "../src/ports/logger";
import { RateLimiterFacade } from "../src/ports/rate-limiter";
import { FirebaseTokenVerifier } from "../src/ports/token-verifier/firebase-token-verifier";
import { FLEET_KEYS } from "../src/gateway/fleet-protocol";
import { environment } from "./support/environment";
import { connectAs, createClient, nextEvent, startGateway } from "./support/gateway";
import { call, callOk } from "./support/messaging";
import { TEST_CONTROL_SECRET } from "./support/secrets";
import { createUser, forgeEmulatorToken } from "./support/users";

type Ended = { reason: string; message: string };

/** An emulator token (alg none) for an existing user, expiring in `seconds`, with chosen claims. */
function shortToken(uid: string, seconds: number, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return forgeEmulatorToken(uid, { iat: now, auth_time: now, exp: now + seconds, ...claims });
}

/** Connects with `token`, listening for `token_expiring` from the first packet (it may come right after admission). */
async function connectWarned(url: string, token: string) {
  const socket = createClient(url, { auth: { token } });
  const warning = nextEvent<{ expiresAt: number }>(socket, "token_expiring", 15_000);
  await new Promise((resolve, reject) => {
    socket.once("auth_success", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, warning };
}

const ended = (socket: Parameters<typeof nextEvent>[0]) => nextEvent<Ended>(socket, "session_ended", 15_000);
const gone = (socket: Parameters<typeof nextEvent>[0]) => nextEvent<string>(socket, "disconnect", 15_000);

describe("session lifetime: a session ends when its account does (issue 11)", function () {
  this.timeout(40_000);
  it("warns before the token expires and, without a refresh, ends the session with TOKEN_EXPIRED", async () => {
    const alice = await createUser({ name: "alice" });
    // The token lives 10 s (a loaded machine may take seconds to admit it); the warning comes 9.5 s before exp.
    const { url } = await startGateway({ tokenExpiryLeadMs: 9_500, tokenExpiryGraceMs: 200 });
    const { socket, warning } = await connectWarned(url, shortToken(alice.uid, 10));
    const end = ended(socket);
    const disconnected = gone(socket);

    expect((await warning).expiresAt).to.be.a("number");
    expect(await end).to.include({ reason: "TOKEN_EXPIRED" });
    await disconnected;
  });

  it("a refreshed token keeps the session and its roles: a demoted coordinator can no longer send emergency", async () => {
    const coordinator = await createUser({ name: "coordinator" });
    const bob = await createUser({ name: "bob" });
    const { url } = await startGateway({ tokenExpiryLeadMs: 9_500, tokenExpiryGraceMs: 200 });
    const { socket, warning } = await connectWarned(url, shortToken(coordinator.uid, 10, { role: "coordinator" }));
    const asCoordinator = await call(socket, "send_message", { clientId: "e-1", type: "emergency", content: "flood", recipientId: bob.uid });
    await warning;

    const refreshed = await callOk<{ expiresAt: number }>(socket, "refresh_token", { token: shortToken(coordinator.uid, 3600) });
    const demoted = await call(socket, "send_message", { clientId: "e-2", type: "emergency", content: "flood", recipientId: bob.uid });
    await new Promise((r) => setTimeout(r, 11_000)); // past the first token's exp + grace
    const stillUp = await call(socket, "heartbeat");

    expect(asCoordinator.ok).to.equal(true);
    expect(refreshed.expiresAt).to.be.above(Date.now() + 3_000_000);
    expect(demoted.ok).to.equal(false);
    if (!demoted.ok) expect(demoted.error.code).to.equal("PERMISSION_DENIED");
    expect(stillUp.ok).to.equal(true);
    expect(socket.connected).to.equal(true);
  });

  it("refuses a refresh with another user's token and ends the session", async () => {
    const [alice, mallory] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "mallory" })]);
    const { url } = await startGateway();
    const { socket } = await connectAs(url, mallory.idToken);
    const disconnected = gone(socket);

    const answer = await call(socket, "refresh_token", { token: alice.idToken });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("PERMISSION_DENIED");
    await disconnected;
  });

  it("re-verification ends the sessions of a disabled account and of revoked tokens", async () => {
    const [disabled, revoked, kept] = await Promise.all(["disabled", "revoked", "kept"].map((name) => createUser({ name })));
    const { url } = await startGateway({ sessionRecheckMs: 300 });
    const d = await connectAs(url, disabled.idToken);
    const r = await connectAs(url, revoked.idToken);
    const k = await connectAs(url, kept.idToken);
    const endD = ended(d.socket);
    const endR = ended(r.socket);
    await new Promise((res) => setTimeout(res, 1_100)); // tokensValidAfterTime has a one-second grain

    await firebaseAuth().updateUser(disabled.uid, { disabled: true });
    await firebaseAuth().revokeRefreshTokens(revoked.uid);

    expect(await endD).to.include({ reason: "USER_DISABLED" });
    expect(await endR).to.include({ reason: "TOKEN_REVOKED" });
    expect((await call(k.socket, "heartbeat")).ok).to.equal(true);
  });

  it("an admin kick (POST /sessions/revoke) ends every session of the user on every instance", async () => {
    const [admin, target] = await Promise.all([createUser({ name: "admin", claims: { admin: true } }), createUser({ name: "target" })]);
    const one = await startGateway({ instanceId: "kick-1" });
    const two = await startGateway({ instanceId: "kick-2" });
    const onOne = await connectAs(one.url, target.idToken);
    const onTwo = await connectAs(two.url, target.idToken);
    const ends = [ended(onOne.socket), ended(onTwo.socket)];
    const redis = new Redis(environment().redis.url);
    try {
      for (let i = 0; i < 50 && ((await redis.pubsub("NUMSUB", FLEET_KEYS.channel)) as [string, number])[1] < 2; i++) await new Promise((r) => setTimeout(r, 100));
      const handler = createControlHandler({
        host: new FleetGatewayHost({ redis, drainTimeoutMs: 2_000, controlSecret: TEST_CONTROL_SECRET }),
        verifier: new FirebaseTokenVerifier(firebaseAuth(), true),
        accounts: new FirebaseAccountState(firebaseAuth()),
        logger: silentLogger,
        broadcasts: new MemoryBroadcastStore(),
        rateLimiter: new RateLimiterFacade(systemClock),
        broadcastLimit: { limit: 3, windowMs: 60_000 },
        controlRoles: ["admin"],
      });
      const asTarget = await handler({ method: "POST", path: "/sessions/revoke", headers: { authorization: `Bearer ${target.idToken}` }, body: { uid: target.uid } });
      const answer = await handler({ method: "POST", path: "/sessions/revoke", headers: { authorization: `Bearer ${admin.idToken}` }, body: { uid: target.uid } });

      expect(asTarget.status).to.equal(403);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ uid: target.uid, tokensRevoked: true, ended: 2, instances: 2 });
      for (const end of ends) expect(await end).to.include({ reason: "TOKEN_REVOKED" });
      expect((await firebaseAuth().getUser(target.uid)).tokensValidAfterTime).to.be.a("string");
    } finally {
      redis.disconnect();
    }
  });
});

import { expect } from "chai";
import { connectAs, connectError, createClient, nextEvent, startGateway } from "./support/gateway";
import { call, callOk, sendOk } from "./support/messaging";
import { eventually } from "./support/wait";
import { createUser } from "./support/users";

/** Issue 12 (2): connection budgets, per user across instances, per IP and per user admission rate, idle timeout. */
describe("connection budgets", () => {
  it("refuses a user's socket past MAX_SOCKETS_PER_USER across two instances with TOO_MANY_CONNECTIONS; its open sockets keep working, a closed one frees a slot", async () => {
    const heavy = await createUser({ name: "heavy" });
    const friend = await createUser({ name: "friend" });
    const a = await startGateway({ maxSocketsPerUser: 3 });
    const b = await startGateway({ maxSocketsPerUser: 3 });
    const first = await connectAs(a.url, heavy.idToken);
    await connectAs(a.url, heavy.idToken);
    await connectAs(b.url, heavy.idToken);

    const refused = await connectError(createClient(b.url, { auth: { token: heavy.idToken } }));
    expect(refused.data).to.include({ code: "TOO_MANY_CONNECTIONS" });
    expect((refused.data as { retryAfterMs?: number }).retryAfterMs).to.be.greaterThan(0);
    const other = await connectAs(b.url, friend.idToken);
    await sendOk(first.socket, { recipientId: friend.uid, content: "still works" });
    expect(other.welcome.uid).to.equal(friend.uid);

    first.socket.disconnect();
    const admitted = await eventually(() => connectAs(b.url, heavy.idToken), { what: "a freed slot" });
    expect(admitted.welcome.uid).to.equal(heavy.uid);
  });

  it("refuses connection attempts of one user past RATE_LIMIT_MAX_CONNECTIONS per window (RATE_LIMITED, retryAfterMs); another user is admitted", async () => {
    const flapper = await createUser({ name: "flapper" });
    const calm = await createUser({ name: "calm" });
    const { url } = await startGateway({ rateLimitMaxConnections: 3, rateLimitWindowMs: 60_000 });
    for (let i = 0; i < 3; i += 1) (await connectAs(url, flapper.idToken)).socket.disconnect();

    const refused = await connectError(createClient(url, { auth: { token: flapper.idToken } }));
    expect(refused.data).to.include({ code: "RATE_LIMITED", reason: "CONNECTION_RATE" });
    expect((refused.data as { retryAfterMs?: number }).retryAfterMs).to.be.within(1, 60_000);
    expect((await connectAs(url, calm.idToken)).welcome.uid).to.equal(calm.uid);
  });

  it("counts attempts per peer address; a forged X-Forwarded-For does not escape it unless TRUST_PROXY says a proxy sets it", async () => {
    const user = await createUser({ name: "nat" });
    const direct = await startGateway({ rateLimitMaxConnectionsPerIp: 2 });
    for (const forged of ["1.1.1.1", "2.2.2.2"]) (await connectAs(direct.url, user.idToken, { extraHeaders: { "x-forwarded-for": forged } })).socket.disconnect();
    const refused = await connectError(createClient(direct.url, { auth: { token: user.idToken }, extraHeaders: { "x-forwarded-for": "3.3.3.3" } }));
    expect(refused.data).to.include({ code: "RATE_LIMITED", reason: "CONNECTION_RATE" });

    const proxied = await startGateway({ rateLimitMaxConnectionsPerIp: 2, trustProxy: 1 });
    const via = (client: string) => ({ extraHeaders: { "x-forwarded-for": `6.6.6.6, ${client}` } });
    for (let i = 0; i < 2; i += 1) (await connectAs(proxied.url, user.idToken, via("4.4.4.4"))).socket.disconnect();
    const sameClient = await connectError(createClient(proxied.url, { auth: { token: user.idToken }, ...via("4.4.4.4") }));
    expect(sameClient.data).to.include({ code: "RATE_LIMITED" });
    expect((await connectAs(proxied.url, user.idToken, via("5.5.5.5"))).welcome.uid).to.equal(user.uid);
  });

  it("ends a socket that sends only heartbeats for MAX_IDLE_TIME with session_ended IDLE_TIMEOUT; a socket in use stays", async () => {
    const idle = await createUser({ name: "idle" });
    const busy = await createUser({ name: "busy" });
    const { url } = await startGateway({ maxIdleTimeMs: 1_500, rateLimits: { list_conversations: { limit: 1_000, windowMs: 60_000 } } });
    const i = await connectAs(url, idle.idToken);
    const b = await connectAs(url, busy.idToken);
    const ended = nextEvent<{ reason: string }>(i.socket, "session_ended", 10_000);
    const keepAlive = setInterval(() => {
      void call(i.socket, "heartbeat", {});
      void call(b.socket, "list_conversations", {});
    }, 200);
    try {
      expect((await ended).reason).to.equal("IDLE_TIMEOUT");
      await eventually(() => expect(i.socket.connected).to.equal(false), { what: "the idle socket closed" });
      expect(b.socket.connected).to.equal(true);
      await callOk(b.socket, "list_conversations", {});
    } finally {
      clearInterval(keepAlive);
    }
  });
});

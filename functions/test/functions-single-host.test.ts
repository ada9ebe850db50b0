import { expect } from "chai";
import { freePort } from "../tools/free-port";
import type { FunctionsEmulator } from "../tools/functions-emulator";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { call, startFunctions } from "./support/control";
import { connectAs, connectError, createClient, nextEvent } from "./support/gateway";
import { sendOk } from "./support/messaging";
import { createUser } from "./support/users";

/**
 * `websocketServer` and `getWebSocketInfo` through the Functions emulator, single-host mode: the gateway
 * runs inside the function's worker on GATEWAY_PORT. One emulator for the file; the tests run in order
 * and stop the gateway at the end.
 */
describe("websocketServer in the Functions emulator (single host)", function () {
  this.timeout(60_000);
  let functions: FunctionsEmulator;
  let gatewayPort: number;
  let gatewayUrl: string;
  const admin = () => createUser({ name: "admin", claims: { admin: true } });

  before(async function () {
    this.timeout(180_000);
    gatewayPort = await freePort();
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    functions = await startFunctions({ GATEWAY_MODE: "single", GATEWAY_PORT: String(gatewayPort), SHUTDOWN_TIMEOUT_MS: "1000", RECONNECT_AFTER_MS: "1500" });
  });

  after(async function () {
    this.timeout(30_000);
    if (!functions) return;
    const root = await admin().catch(() => undefined);
    if (root) await call(functions, "POST", "/stop", { token: root.idToken }).catch(() => undefined);
    await functions.stop();
  });

  it("getWebSocketInfo tells clients where and how to connect", async () => {
    const res = await fetch(functions.url("getWebSocketInfo"));
    const info = (await res.json()) as Record<string, unknown>;

    expect(res.status).to.equal(200);
    expect(info).to.include({ ok: true, mode: "single", url: gatewayUrl, path: "/socket.io", heartbeatIntervalMs: 15_000, presenceTtlMs: 45_000, protocolVersion: 1 });
    expect(info.transports).to.deep.equal(["websocket", "polling"]);
  });

  it("refuses control calls without a token, with a bad token, or from a non-admin", async () => {
    const member = await createUser({ name: "member" });

    const none = await call(functions, "POST", "/start");
    const garbage = await call(functions, "POST", "/start", { token: "not-a-token" });
    const notAdmin = await call(functions, "POST", "/stop", { token: member.idToken });
    const broadcast = await call(functions, "POST", "/emergency-broadcast", { token: member.idToken, body: { title: "x", body: "y" } });

    expect(none).to.deep.include({ status: 401 });
    expect(none.body.error).to.include({ code: "UNAUTHENTICATED", message: "An Authorization: Bearer <Firebase ID token> header is required." });
    expect(garbage.status).to.equal(401);
    expect(garbage.body.error).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_MALFORMED" });
    expect(notAdmin.status).to.equal(403);
    expect(notAdmin.body.error).to.include({ code: "PERMISSION_DENIED", message: "This needs one of the roles: admin." });
    expect(broadcast.status).to.equal(403);
  });

  it("answers wrong methods and unknown paths with JSON errors", async () => {
    const wrongMethod = await call(functions, "GET", "/start");
    const unknown = await call(functions, "POST", "/restart");

    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.body).to.deep.equal({ ok: false, error: { code: "INVALID_ARGUMENT", message: "Method GET is not allowed on /start; use POST." } });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal("NOT_FOUND");
  });

  it("reports a stopped gateway, to anyone", async () => {
    const status = await call(functions, "GET", "/status");

    expect(status).to.deep.equal({ status: 200, body: { ok: true, running: false } });
  });

  it("starts the gateway once, idempotently, and admits clients", async () => {
    const root = await admin();
    const alice = await createUser({ name: "alice" });

    const first = await call(functions, "POST", "/start", { token: root.idToken });
    const second = await call(functions, "POST", "/start", { token: root.idToken });
    const { welcome } = await connectAs(gatewayUrl, alice.idToken);

    expect(first.status).to.equal(200);
    expect(first.body).to.include({ ok: true, mode: "single", started: true });
    expect(second.body).to.include({ ok: true, started: false });
    expect(second.body.detail).to.match(/already running/);
    expect(welcome.uid).to.equal(alice.uid);
  });

  it("shows full figures to admins and liveness only to others", async () => {
    const [root, bob, carol, away] = await Promise.all([admin(), createUser({ name: "bob" }), createUser({ name: "carol" }), createUser({ name: "away" })]);
    const fromBob = await connectAs(gatewayUrl, bob.idToken);
    await connectAs(gatewayUrl, carol.idToken);
    await connectAs(gatewayUrl, carol.idToken);
    await sendOk(fromBob.socket, { clientId: "c-1", type: "text", content: "are you there?", recipientId: away.uid });

    const anonymous = await call(functions, "GET", "/status");
    const member = await call(functions, "GET", "/status", { token: bob.idToken });
    const full = await call(functions, "GET", "/status", { token: root.idToken });

    expect(anonymous.body).to.deep.equal({ ok: true, running: true });
    expect(member.body).to.deep.equal({ ok: true, running: true });
    const { total, instances, backends, offlineQueueDepth } = full.body;
    expect(full.body).to.include({ ok: true, running: true, mode: "single" });
    expect(total.connections).to.include({ active: 3, authenticated: 3 });
    expect(total.connections.peak).to.be.at.least(3);
    expect(total.uniqueUsers).to.equal(2);
    expect(instances).to.have.length(1);
    expect(instances[0].uptimeMs).to.be.above(0);
    expect(instances[0].memory.rss).to.be.above(0);
    expect(instances[0]).to.have.property("errorsByCode");
    expect(instances[0]).to.have.property("messagesPerSecond");
    expect(instances[0]).to.have.property("deliverySuccessRate");
    expect(backends.redis).to.deep.equal({ configured: false, reachable: false });
    expect(full.body.presenceMode).to.equal("memory");
    expect(backends.firestore.reachable).to.equal(true);
    expect(offlineQueueDepth).to.equal(1);
    expect(instances[0].messagesSent).to.equal(1);
    expect(total.messagesPerSecond).to.be.above(0);
  });

  it("rejects malformed broadcasts with the reason", async () => {
    const root = await admin();

    const missing = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "Flood" } });
    const notJson = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: "{oops", contentType: "text/plain" });
    const badPriority = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "a", body: "b", priority: "urgent!" } });

    expect(missing.status).to.equal(400);
    expect(missing.body.error.code).to.equal("INVALID_ARGUMENT");
    expect(missing.body.error.message).to.match(/^Invalid broadcast: body: /);
    expect(notJson.status).to.equal(400);
    expect(notJson.body.error.message).to.equal("The body must be JSON: { title, body, priority? }.");
    expect(badPriority.status).to.equal(400);
    expect(badPriority.body.error.message).to.match(/priority/);
  });

  it("broadcasts to every connected client, stores it for those offline, and limits callers to 3 a minute", async () => {
    const [root, dave, erin] = await Promise.all([admin(), createUser({ name: "dave" }), createUser({ name: "erin" })]);
    const online = await connectAs(gatewayUrl, dave.idToken);
    const live = nextEvent<EmergencyBroadcastPayload>(online.socket, "emergency_broadcast");

    const sent = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "Flood warning", body: "Move to higher ground." } });
    const late = createClient(gatewayUrl, { auth: { token: erin.idToken } });
    const replayed = await nextEvent<EmergencyBroadcastPayload>(late, "emergency_broadcast");
    await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "2", body: "2" } });
    await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "3", body: "3" } });
    const fourth = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "4", body: "4" } });

    expect(sent.status).to.equal(200);
    expect(sent.body).to.include({ ok: true, delivered: 1, instances: 1, stored: true });
    expect(sent.body.broadcast).to.include({ title: "Flood warning", body: "Move to higher ground.", priority: "critical", senderId: root.uid });
    expect(await live).to.deep.equal(sent.body.broadcast);
    expect(replayed).to.deep.equal(sent.body.broadcast);
    expect(fourth.status).to.equal(429);
    expect(fourth.body.error.code).to.equal("RATE_LIMITED");
    expect(fourth.body.error.retryAfterMs).to.be.above(0).and.at.most(60_000);
  });

  it("stops gracefully: clients are told to reconnect later, new ones are refused; a second stop is a no-op", async () => {
    const [root, frank, gina] = await Promise.all([admin(), createUser({ name: "frank" }), createUser({ name: "gina" })]);
    const { socket } = await connectAs(gatewayUrl, frank.idToken);
    const notice = nextEvent(socket, "server_shutdown");
    const gone = nextEvent(socket, "disconnect", 10_000);

    const stopped = await call(functions, "POST", "/stop", { token: root.idToken });
    const again = await call(functions, "POST", "/stop", { token: root.idToken });
    const status = await call(functions, "GET", "/status", { token: root.idToken });

    expect(stopped.body).to.include({ ok: true, stopped: true });
    expect(await notice).to.deep.equal({ reason: "stopped", reconnectAfterMs: 1500 });
    expect(await gone).to.equal("io server disconnect");
    expect(again.body).to.include({ ok: true, stopped: false, detail: "not running" });
    expect(status.body).to.include({ running: false });
    const refused = await connectError(createClient(gatewayUrl, { auth: { token: gina.idToken } }));
    expect(refused.message).to.match(/xhr poll error|websocket error|ECONNREFUSED/);
  });
});

import { expect } from "chai";
import Redis from "ioredis";
import type { FunctionsEmulator } from "../tools/functions-emulator";
import { FLEET_KEYS } from "../src/gateway/fleet-protocol";
import type { EmergencyBroadcastPayload } from "../src/protocol";
import { Answer, call, startFunctions } from "./support/control";
import { environment } from "./support/environment";
import { connectAs, connectError, createClient, nextEvent, startGateway } from "./support/gateway";
import { createUser, createUsers } from "./support/users";
import { eventually } from "./support/wait";

/**
 * Fleet mode: `websocketServer` in the Functions emulator controls two standalone gateway instances
 * that share one Redis (registry with TTL, command channel, acks).
 */
describe("websocketServer in the Functions emulator (fleet of two gateways on one Redis)", function () {
  this.timeout(60_000);
  let functions: FunctionsEmulator;

  before(async function () {
    this.timeout(180_000);
    functions = await startFunctions({ GATEWAY_MODE: "fleet", REDIS_URL: environment().redis.url, SHUTDOWN_TIMEOUT_MS: "3000" });
  });

  after(async function () {
    this.timeout(30_000);
    await functions?.stop();
  });

  async function fleetOfTwo() {
    const a = await startGateway({ instanceId: "gw-a", shutdownTimeoutMs: 500 });
    const b = await startGateway({ instanceId: "gw-b", shutdownTimeoutMs: 500 });
    const root = await createUser({ name: "root", claims: { admin: true } });
    return { a, b, root };
  }

  const statusOf = (token: string) => call(functions, "GET", "/status", { token });
  /** Polls `/status` with `token` until `accept` takes the answer (figures reach Redis a moment after the traffic). */
  const statusWhen = (token: string, what: string, accept: (status: Answer) => boolean) =>
    eventually(() => statusOf(token), { accept, what, timeoutMs: 10_000, everyMs: 100 });

  it("reports every instance and the total", async () => {
    const { a, b, root } = await fleetOfTwo();
    const [alice, bob] = await createUsers("alice", "bob");
    await connectAs(a.url, alice.idToken);
    await connectAs(b.url, bob.idToken);
    await connectAs(b.url, alice.idToken);

    const status = await statusWhen(root.idToken, "both instances with their clients", (s) => s.body.total?.connections.active === 3);
    const anonymous = await call(functions, "GET", "/status");

    expect(anonymous.body).to.deep.equal({ ok: true, running: true });
    expect(status.body).to.include({ ok: true, running: true, mode: "fleet" });
    expect(status.body.instances.map((i: { instanceId: string }) => i.instanceId)).to.deep.equal(["gw-a", "gw-b"]);
    expect(status.body.instances.map((i: { connections: { active: number } }) => i.connections.active)).to.deep.equal([1, 2]);
    expect(status.body.total).to.include({ instances: 2, running: 2, uniqueUsers: 3 });
    expect(status.body.instances.every((i: { stale: boolean }) => i.stale === false)).to.equal(true);
    expect(status.body.backends.redis).to.include({ configured: true, reachable: true });
    expect(status.body.presenceMode).to.equal("redis");
  });

  it("flags an instance whose figures are stale or whose record expired", async () => {
    const { root } = await fleetOfTwo();
    const redis = new Redis(environment().redis.url);
    try {
      const old = { instanceId: "gw-old", address: "http://10.0.0.9:8080", startedAt: 1, reportedAt: Date.now() - 60_000, figures: { state: "running" } };
      await redis.multi().set(FLEET_KEYS.instance("gw-old"), JSON.stringify(old), "PX", 30_000).sadd(FLEET_KEYS.instances, "gw-old", "gw-dead").exec();
    } finally {
      redis.disconnect();
    }

    const status = await statusWhen(root.idToken, "four instances", (s) => s.body.instances?.length === 4);

    const byId = Object.fromEntries(status.body.instances.map((i: { instanceId: string; stale: boolean }) => [i.instanceId, i.stale]));
    expect(byId).to.deep.equal({ "gw-a": false, "gw-b": false, "gw-dead": true, "gw-old": true });
    expect(status.body.total).to.include({ instances: 4, running: 2 });
  });

  it("broadcasts to the clients of every instance", async () => {
    const { a, b, root } = await fleetOfTwo();
    const [carol, dan] = await createUsers("carol", "dan");
    const onA = await connectAs(a.url, carol.idToken);
    const onB = await connectAs(b.url, dan.idToken);
    const toCarol = nextEvent<EmergencyBroadcastPayload>(onA.socket, "emergency_broadcast");
    const toDan = nextEvent<EmergencyBroadcastPayload>(onB.socket, "emergency_broadcast");

    const sent = await call(functions, "POST", "/emergency-broadcast", { token: root.idToken, body: { title: "Storm", body: "Stay inside.", priority: "high" } });

    expect(sent.status).to.equal(200);
    expect(sent.body).to.include({ delivered: 2, instances: 2, stored: true });
    expect(await toCarol).to.deep.equal(sent.body.broadcast);
    expect(await toDan).to.deep.equal(sent.body.broadcast);
  });

  it("/stop drains every instance but keeps them up; /start makes them admit again", async () => {
    const { a, b, root } = await fleetOfTwo();
    const [erin, frank] = await createUsers("erin", "frank");
    const onA = await connectAs(a.url, erin.idToken);
    const onB = await connectAs(b.url, frank.idToken);
    const notices = [nextEvent(onA.socket, "server_shutdown"), nextEvent(onB.socket, "server_shutdown")];

    const stopped = await call(functions, "POST", "/stop", { token: root.idToken });

    expect(stopped.body).to.include({ ok: true, mode: "fleet", instances: 2, drained: 2, disconnected: 2 });
    expect(await Promise.all(notices)).to.deep.equal([
      { reason: "stopped", reconnectAfterMs: 2_000 },
      { reason: "stopped", reconnectAfterMs: 2_000 },
    ]);
    const refused = await connectError(createClient(a.url, { auth: { token: erin.idToken } }));
    expect(refused.data).to.include({ code: "UNAVAILABLE" });
    const health = await fetch(`${b.url}/healthz`);
    expect(health.status).to.equal(503);
    expect(await health.json()).to.include({ ok: false, state: "running", admitting: false });
    const drained = await statusWhen(root.idToken, "drained figures", (s) => s.body.instances?.every((i: { admitting: boolean }) => i.admitting === false));
    expect(drained.body.total.connections.active).to.equal(0);

    const started = await call(functions, "POST", "/start", { token: root.idToken });

    expect(started.body).to.include({ ok: true, instances: 2, admitting: 2 });
    expect((await fetch(`${b.url}/healthz`)).status).to.equal(200);
    expect((await connectAs(a.url, erin.idToken)).welcome.uid).to.equal(erin.uid);
    expect((await connectAs(b.url, frank.idToken)).welcome.uid).to.equal(frank.uid);
  });

  it("says so when no instance is listening", async () => {
    const root = await createUser({ name: "root", claims: { admin: true } });

    const stopped = await call(functions, "POST", "/stop", { token: root.idToken });
    const status = await statusOf(root.idToken);

    expect(stopped.body).to.include({ ok: true, instances: 0, drained: 0 });
    expect(status.body).to.include({ running: false });
    expect(status.body.instances).to.deep.equal([]);
  });
});

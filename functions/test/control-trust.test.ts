import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { createServer, request, Server } from "node:http";
import type { AddressInfo } from "node:net";
import Redis from "ioredis";
import { CONTROL_HEADER, signEnvelope } from "../src/gateway/control-auth";
import { FLEET_KEYS } from "../src/gateway/fleet-protocol";
import { valueOf } from "../src/gateway/metrics";
import { environment } from "./support/environment";
import { connectAs, startGateway } from "./support/gateway";
import { TEST_CONTROL_SECRET } from "./support/secrets";
import { createUser } from "./support/users";

/**
 * The attacker of issue 11: a same-host reverse proxy (nginx, a sidecar, kubectl port-forward) makes
 * every request come from 127.0.0.1. Through such a proxy, written here in 20 lines, nothing without
 * CONTROL_SECRET may stop the gateway, read its figures or broadcast.
 */
function loopbackProxy(targetPort: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const upstream = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as { ok?: boolean; error?: { code: string } } };
}

const forged = () => ({ id: randomUUID(), title: "EVACUATE NOW", body: "https://evil.example", priority: "critical", senderId: "anyone", createdAt: 9e15 });

describe("control routes: no credential, no control (issue 11)", function () {
  this.timeout(40_000);
  let proxy: { url: string; server: Server } | undefined;
  afterEach(() => proxy?.server.close());

  it("refuses forged /broadcast, /stop and /stats through a loopback proxy without or with a wrong secret", async () => {
    const alice = await createUser({ name: "alice" });
    const { gateway, port, url } = await startGateway();
    const { socket } = await connectAs(url, alice.idToken);
    let received = 0;
    socket.on("emergency_broadcast", () => received++);
    proxy = await loopbackProxy(port);

    const attempts: Array<Record<string, string>> = [{}, { [CONTROL_HEADER]: "wrong" }, { [CONTROL_HEADER]: TEST_CONTROL_SECRET + "x" }];
    for (const headers of attempts) {
      expect((await post(`${proxy.url}/broadcast`, forged(), headers)).status).to.equal(401);
      expect((await post(`${proxy.url}/stop`, {}, headers)).status).to.equal(401);
      expect((await fetch(`${proxy.url}/stats`, { headers })).status).to.equal(401);
    }
    const health = await (await fetch(`${proxy.url}/healthz`)).json();

    expect(gateway.status).to.equal("running");
    expect(received).to.equal(0);
    expect(health).to.deep.equal({ ok: true, state: "running", admitting: true });
    expect(await valueOf(gateway.metrics.controlRefused)).to.equal(9);
  });

  it("with the secret, still refuses a broadcast whose shape or createdAt is forged", async () => {
    const { port } = await startGateway();
    proxy = await loopbackProxy(port);
    const secret = { [CONTROL_HEADER]: TEST_CONTROL_SECRET };

    const future = await post(`${proxy.url}/broadcast`, forged(), secret);
    const bare = await post(`${proxy.url}/broadcast`, "\"EVACUATE\"", secret);
    const extra = await post(`${proxy.url}/broadcast`, { ...forged(), createdAt: Date.now(), html: "<script>" }, secret);
    const good = await post(`${proxy.url}/broadcast`, { ...forged(), createdAt: Date.now() }, secret);

    expect([future.status, future.body.error?.code]).to.deep.equal([400, "INVALID_ARGUMENT"]);
    expect([bare.status, extra.status]).to.deep.equal([400, 400]);
    expect(good).to.deep.include({ status: 200 });
  });

  it("answers a 100 MB body with 413 while streaming and keeps serving", async () => {
    const alice = await createUser({ name: "alice" });
    const { gateway, port, url } = await startGateway();
    const rssBefore = process.memoryUsage().rss;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/broadcast", headers: { [CONTROL_HEADER]: TEST_CONTROL_SECRET, "transfer-encoding": "chunked" } }, (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 100) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });

    expect(status).to.equal(413);
    expect(gateway.status).to.equal("running");
    expect(process.memoryUsage().rss - rssBefore).to.be.below(50 * 1024 * 1024);
    await connectAs(url, alice.idToken);
  });

  it("answers 403 on every control route when no CONTROL_SECRET is configured", async () => {
    const { port } = await startGateway({ controlSecret: "" });
    const stop = await post(`http://127.0.0.1:${port}/stop`, {}, { [CONTROL_HEADER]: "" });
    const stats = await fetch(`http://127.0.0.1:${port}/stats`);
    expect([stop.status, stop.body.error?.code, stats.status]).to.deep.equal([403, "PERMISSION_DENIED", 403]);
  });

  it("ignores and counts unsigned, wrongly signed and replayed fleet commands on Redis", async () => {
    const alice = await createUser({ name: "alice" });
    const { gateway, url } = await startGateway({ instanceId: `gw-${randomUUID()}` });
    const { socket } = await connectAs(url, alice.idToken);
    let received = 0;
    socket.on("emergency_broadcast", () => received++);
    const redis = new Redis(environment().redis.url);
    try {
      const command = (id: string) => JSON.stringify({ id, type: "broadcast", broadcast: { ...forged(), createdAt: Date.now() } });
      const drain = JSON.stringify({ id: randomUUID(), type: "drain" });
      const signed = signEnvelope(command(randomUUID()), TEST_CONTROL_SECRET, Date.now());
      // Wait until the instance listens on the channel.
      for (let i = 0; i < 50 && (await redis.pubsub("NUMSUB", FLEET_KEYS.channel) as [string, number])[1] < 1; i++) await new Promise((r) => setTimeout(r, 100));

      await redis.publish(FLEET_KEYS.channel, drain);
      await redis.publish(FLEET_KEYS.channel, signEnvelope(drain, "wrong-secret", Date.now()));
      await redis.publish(FLEET_KEYS.channel, signEnvelope(drain, TEST_CONTROL_SECRET, Date.now() - 10 * 60_000));
      await redis.publish(FLEET_KEYS.channel, signed);
      await redis.publish(FLEET_KEYS.channel, signed); // replayed
      for (let i = 0; i < 50 && (await valueOf(gateway.metrics.fleetCommandsRejected)) < 4; i++) await new Promise((r) => setTimeout(r, 50));
      // The accepted command's broadcast travels on to the client after it was counted.
      for (let i = 0; i < 50 && received < 1; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200)); // a replayed one would arrive by now

      expect(await valueOf(gateway.metrics.fleetCommandsRejected)).to.equal(4);
      expect(await valueOf(gateway.metrics.fleetCommands)).to.equal(1);
      expect(gateway.isAdmitting).to.equal(true);
      expect(received).to.equal(1);
    } finally {
      redis.disconnect();
    }
  });
});

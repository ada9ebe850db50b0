import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { call, collect, sendOk } from "./support/messaging";
import { arrived } from "./support/wait";

const METRICS_TOKEN = "scrape-secret-for-tests";

async function scrape(url: string, token?: string) {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** The value of one sample in Prometheus text (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    const labelPart = line.slice(name.length).startsWith("{") ? line.slice(name.length + 1, line.indexOf("}")) : "";
    if (wanted.every((w) => labelPart.split(",").includes(w))) return Number(line.split(" ").pop());
  }
  return 0;
}

describe("GET /metrics", () => {
  it("is refused to an outsider: off without METRICS_TOKEN, 401 without or with a wrong bearer", async () => {
    const off = await startGateway();
    const on = await startGateway({ metricsToken: METRICS_TOKEN });

    expect((await scrape(off.url, METRICS_TOKEN)).status).to.equal(403);
    expect((await scrape(on.url)).status).to.equal(401);
    const wrong = await scrape(on.url, "guess");
    expect(wrong.status).to.equal(401);
    expect(wrong.text).to.not.include("talowa_");
  });

  it("answers Prometheus text whose numbers move with real traffic and agree with the gateway's figures", async () => {
    const { url, gateway, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { metricsToken: METRICS_TOKEN });
    const before = await scrape(url, METRICS_TOKEN);
    expect(before.status).to.equal(200);
    expect(before.type).to.include("text/plain");
    expect(sample(before.text, "talowa_messages_sent_total")).to.equal(0);
    expect(before.text).to.include("nodejs_eventloop_lag_seconds");
    expect(before.text).to.include("process_resident_memory_bytes");

    const [a, b] = await connect(alice, bob);
    const received = collect(b.socket);
    await sendOk(a.socket, { recipientId: bob.uid, content: "one" });
    await sendOk(a.socket, { recipientId: bob.uid, content: "two" });
    await arrived(received, 2);
    await call(a.socket, "fetch_history", { conversationId: "not-mine" });

    const after = (await scrape(url, METRICS_TOKEN)).text;
    const figures = await gateway.stats();
    expect(sample(after, "talowa_messages_sent_total")).to.equal(2);
    expect(figures.messaging?.messagesSent).to.equal(2);
    expect(sample(after, "talowa_connections_active")).to.equal(2);
    expect(figures.connections.active).to.equal(2);
    expect(sample(after, "talowa_connections_admitted_total")).to.equal(figures.connections.total);
    expect(sample(after, "talowa_events_total", { event: "send_message", code: "OK" })).to.equal(2);
    expect(sample(after, "talowa_events_total", { event: "fetch_history", code: "NOT_FOUND" })).to.equal(1);
    expect(figures.messaging?.errorsByCode).to.deep.equal({ NOT_FOUND: 1 });
    expect(sample(after, "talowa_send_latency_seconds_count")).to.equal(2);
    expect(sample(after, "talowa_fanout_recipients_sum")).to.equal(2);
    expect(sample(after, "talowa_offline_queue_writes_total")).to.equal(0);
    expect(sample(after, "talowa_presence_mode", { mode: "redis" })).to.equal(1);
    expect(sample(after, "talowa_store_latency_seconds_count", { operation: "storing the message" })).to.equal(2);
  });

  it("counts refused connections by reason and offline-queue writes", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { metricsToken: METRICS_TOKEN });
    const [a] = await connect(alice);
    await connectAs(url, "not-a-token").catch(() => undefined);

    await sendOk(a.socket, { recipientId: bob.uid, content: "for later" });

    const text = (await scrape(url, METRICS_TOKEN)).text;
    expect(sample(text, "talowa_connections_refused_total", { reason: "TOKEN_MALFORMED" }) + sample(text, "talowa_connections_refused_total", { reason: "TOKEN_INVALID" })).to.equal(1);
    expect(sample(text, "talowa_offline_queue_writes_total")).to.equal(1);
  });

  it("serves every series the Grafana dashboard in docs/ reads", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { metricsToken: METRICS_TOKEN });
    const [a] = await connect(alice);
    await sendOk(a.socket, { recipientId: bob.uid, content: "hi" });
    await call(a.socket, "fetch_history", { conversationId: "not-mine" });
    await connectAs(url, "not-a-token").catch(() => undefined);
    const text = (await scrape(url, METRICS_TOKEN)).text;
    const dashboard = readFileSync(join(__dirname, "..", "..", "docs", "grafana", "talowa-gateway.json"), "utf8");
    const names = new Set(dashboard.match(/\b(talowa|nodejs|process)_[a-z0-9_]+/g) ?? []);

    expect(names.size).to.be.above(10);
    for (const name of names) expect(text, name).to.match(new RegExp(`^${name}[{ ]`, "m"));
  });
});

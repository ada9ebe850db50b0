import { TEST_CONTROL_SECRET } from "./support/secrets";
import { expect } from "chai";
import { Timestamp } from "firebase-admin/firestore";
import functionsTest from "firebase-functions-test";
import Redis from "ioredis";
import { resolveConfig } from "../src/config";
import { FleetGatewayHost } from "../src/control/fleet-host";
import { keepAliveTick } from "../src/control/keep-alive";
import { DAY_MS, deleteDeliveredEntries } from "../src/control/offline-cleanup";
import { SingleHostGateway } from "../src/control/single-host";
import { firestore } from "../src/firebase";
import { cleanupOfflineMessages, keepWebSocketAlive } from "../src/index";
import { FLEET_KEYS } from "../src/gateway/fleet-protocol";
import type { Logger } from "../src/ports/logger";
import { freePort } from "../tools/free-port";
import { environment } from "./support/environment";
import { connectAs, startGateway } from "./support/gateway";
import { createUser } from "./support/users";
import { eventually, settle } from "./support/wait";

// Made in a hook, not at load: functionsTest() rewrites GCLOUD_PROJECT / FIREBASE_CONFIG for the whole run.
let fft: ReturnType<typeof functionsTest>;

function capturingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => lines.push({ level, message, fields });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

/** An offline-queue entry shaped as the messaging code writes it (docs/DATA-MODEL.md). */
function queueEntry(recipientId: string, messageId: string, options: { ageDays: number; delivered: boolean; deliveredAgeDays?: number }) {
  const createdAt = Date.now() - options.ageDays * DAY_MS;
  const deliveredAt = options.delivered ? Date.now() - (options.deliveredAgeDays ?? options.ageDays) * DAY_MS : null;
  return {
    recipientId,
    conversationId: "dm_a_b",
    messageId,
    seq: 1,
    message: { id: messageId, content: "hi" },
    createdAt,
    delivered: options.delivered,
    deliveredAt,
    expireAt: Timestamp.fromMillis((deliveredAt ?? createdAt) + 30 * DAY_MS),
  };
}

async function writeQueue(entries: Record<string, ReturnType<typeof queueEntry>>) {
  const batch = firestore().batch();
  for (const [id, entry] of Object.entries(entries)) batch.set(firestore().collection("offline_queue").doc(id), entry);
  await batch.commit();
}

async function remainingQueueIds(): Promise<string[]> {
  return (await firestore().collection("offline_queue").get()).docs.map((d) => d.id).sort();
}

describe("scheduled and trigger functions", () => {
  before(() => {
    fft = functionsTest({ projectId: environment().projectId });
  });
  after(() => fft.cleanup());

  describe("keepWebSocketAlive", () => {
    it("stops a single-host gateway that has been idle too long, and logs one stats line", async () => {
      const { logger, lines } = capturingLogger();
      const host = new SingleHostGateway(resolveConfig({ port: await freePort(), projectId: environment().projectId, shutdownTimeoutMs: 500 }), logger);
      await host.start();
      await settle(50); // idle for longer than idleShutdownMs

      const report = await keepAliveTick({ host, logger, idleShutdownMs: 20 });

      expect(report.idleShutdown).to.include({ stopped: true });
      expect(report.total).to.include({ instances: 1, running: 1 });
      expect(await host.stats()).to.equal(undefined);
      const statsLine = lines.find((l) => l.message === "keepWebSocketAlive");
      expect(statsLine?.fields).to.include({ mode: "single", healthy: true });
      expect(lines.some((l) => l.message === "idle gateway stopped")).to.equal(true);
    });

    it("leaves a gateway with clients running", async () => {
      const { logger } = capturingLogger();
      const alice = await createUser({ name: "alice" });
      const port = await freePort();
      const host = new SingleHostGateway(resolveConfig({ port, projectId: environment().projectId, shutdownTimeoutMs: 500 }), logger);
      await host.start();
      try {
        await connectAs(`http://127.0.0.1:${port}`, alice.idToken);

        const report = await keepAliveTick({ host, logger, idleShutdownMs: 1 });

        expect(report.idleShutdown).to.equal(null);
        expect(report.total.connections.active).to.equal(1);
      } finally {
        await host.stop();
      }
    });

    it("checks every fleet instance, flags stale figures and forgets instances whose record expired", async () => {
      const { logger, lines } = capturingLogger();
      await startGateway({ instanceId: "gw-1" });
      await startGateway({ instanceId: "gw-2" });
      const redis = new Redis(environment().redis.url);
      const host = new FleetGatewayHost({ redis, drainTimeoutMs: 2_000, controlSecret: TEST_CONTROL_SECRET });
      try {
        const old = { instanceId: "gw-old", address: "x", startedAt: 1, reportedAt: Date.now() - 60_000, figures: { state: "running" } };
        await redis.multi().set(FLEET_KEYS.instance("gw-old"), JSON.stringify(old), "PX", 30_000).sadd(FLEET_KEYS.instances, "gw-old", "gw-gone").exec();
        await eventually(() => redis.exists(FLEET_KEYS.instance("gw-1"), FLEET_KEYS.instance("gw-2")), { accept: (n) => n === 2, what: "both instances registered" });

        const report = await keepAliveTick({ host, logger, idleShutdownMs: 1 });

        expect(report).to.include({ mode: "fleet", healthy: false, idleShutdown: null });
        expect(report.stale).to.deep.equal(["gw-gone", "gw-old"]);
        expect(report.forgotten).to.deep.equal(["gw-gone"]);
        expect(report.total).to.include({ instances: 4, running: 2 });
        expect(await redis.smembers(FLEET_KEYS.instances)).to.have.members(["gw-1", "gw-2", "gw-old"]);
        expect(lines.filter((l) => l.message === "gateway instance figures are stale").map((l) => l.fields.instanceId)).to.deep.equal(["gw-gone", "gw-old"]);
      } finally {
        redis.disconnect();
      }
    });

    it("reports an unreachable fleet registry as unhealthy instead of failing", async () => {
      const { logger, lines } = capturingLogger();
      const nobody = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
      nobody.on("error", () => undefined);
      try {
        const report = await keepAliveTick({ host: new FleetGatewayHost({ redis: nobody, drainTimeoutMs: 1_000, controlSecret: TEST_CONTROL_SECRET }), logger, idleShutdownMs: 0 });

        expect(report).to.include({ mode: "fleet", healthy: false });
        expect(report.error).to.match(/^Redis does not answer/);
        expect(lines.find((l) => l.message === "keepWebSocketAlive")?.level).to.equal("error");
      } finally {
        nobody.disconnect();
      }
    });

    it("runs as the scheduled function", async () => {
      process.env.GATEWAY_PORT = String(await freePort());

      await keepWebSocketAlive.run({ scheduleTime: new Date().toISOString(), jobName: "keepWebSocketAlive" } as never);
    });
  });

  describe("cleanupOfflineMessages", () => {
    const entries = {
      "u1_oldDelivered1": queueEntry("u1", "oldDelivered1", { ageDays: 9, delivered: true, deliveredAgeDays: 8 }),
      "u1_oldDelivered2": queueEntry("u1", "oldDelivered2", { ageDays: 20, delivered: true }),
      "u2_oldDelivered3": queueEntry("u2", "oldDelivered3", { ageDays: 10, delivered: true }),
      "u1_newDelivered": queueEntry("u1", "newDelivered", { ageDays: 9, delivered: true, deliveredAgeDays: 1 }),
      "u2_oldUndelivered": queueEntry("u2", "oldUndelivered", { ageDays: 30, delivered: false }),
      "u2_newUndelivered": queueEntry("u2", "newUndelivered", { ageDays: 0, delivered: false }),
    };
    const kept = ["u1_newDelivered", "u2_newUndelivered", "u2_oldUndelivered"];

    it("deletes only entries delivered more than 7 days ago, in batches", async () => {
      await writeQueue(entries);

      const result = await deleteDeliveredEntries(firestore(), { retentionMs: 7 * DAY_MS, now: Date.now(), batchSize: 2 });

      expect(result.deleted).to.equal(3);
      expect(await remainingQueueIds()).to.deep.equal(kept);
    });

    it("sweeps when an entry becomes delivered, and not on other writes", async () => {
      process.env.CLEANUP_MIN_INTERVAL_SECONDS = "0";
      const wrapped = fft.wrap(cleanupOfflineMessages);
      await writeQueue(entries);
      const path = "offline_queue/u2_newUndelivered";
      const undelivered = fft.firestore.makeDocumentSnapshot(entries["u2_newUndelivered"], path);
      const delivered = fft.firestore.makeDocumentSnapshot({ ...entries["u2_newUndelivered"], delivered: true, deliveredAt: Date.now() }, path);

      await wrapped({ data: fft.makeChange(fft.firestore.makeDocumentSnapshot({}, path), undelivered), params: { entryId: "u2_newUndelivered" } } as never);
      expect(await remainingQueueIds()).to.have.length(6);

      await wrapped({ data: fft.makeChange(undelivered, delivered), params: { entryId: "u2_newUndelivered" } } as never);
      expect(await remainingQueueIds()).to.deep.equal(kept);
    });
  });
});

/**
 * Mocha root hooks: start the Auth emulator, a private redis-server and Firestore once per run,
 * reset their state before each test, stop them at the end.
 * Under `firebase emulators:exec` the official emulators' hosts are in the environment and used instead.
 */
import { getApps, deleteApp } from "firebase-admin/app";
import Redis from "ioredis";
import { AuthEmulator } from "../../tools/auth-emulator";
import { FirestoreEmulator } from "../../tools/firestore-emulator";
import { LocalRedis } from "../../tools/redis-server";
import { environment, environmentIfStarted, setEnvironment } from "./environment";
import { closeTrackedResources } from "./gateway";
import { stopStandalones } from "./standalone";

const projectId = process.env.GCLOUD_PROJECT || "demo-talowa-test";
process.env.GCLOUD_PROJECT = projectId;
process.env.METADATA_SERVER_DETECTION = "none"; // no metadata server off Google Cloud: do not probe for one

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(240_000);
    const started = await Promise.allSettled([
      process.env.FIREBASE_AUTH_EMULATOR_HOST ? Promise.resolve(undefined) : AuthEmulator.start(projectId),
      LocalRedis.start(),
      FirestoreEmulator.start(),
    ] as const);
    const failure = started.find((s) => s.status === "rejected");
    if (failure) {
      await stopAll(started.map((s) => (s.status === "fulfilled" ? s.value : undefined)));
      throw (failure as PromiseRejectedResult).reason;
    }
    const [auth, redis, firestore] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
      AuthEmulator | undefined,
      LocalRedis,
      FirestoreEmulator,
    ];
    const authHost = auth?.host ?? process.env.FIREBASE_AUTH_EMULATOR_HOST!;
    process.env.FIREBASE_AUTH_EMULATOR_HOST = authHost;
    setEnvironment({ projectId, authHost, auth, redis, firestore });
    process.stdout.write(`  test environment: Auth emulator ${authHost}, redis ${redis.url}, Firestore (${firestore.kind}) ${firestore.host}\n`);
  },

  async beforeEach() {
    const env = environment();
    await Promise.all([clearAccounts(env.authHost), env.firestore.clear(projectId), flushRedis(env.redis.url)]);
  },

  async afterEach() {
    await closeTrackedResources();
    await stopStandalones();
  },

  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await Promise.all(getApps().map((app) => deleteApp(app)));
    const env = environmentIfStarted();
    if (env) await stopAll([env.auth, env.redis, env.firestore]);
    setEnvironment(undefined);
  },
};

async function stopAll(resources: unknown[]): Promise<void> {
  await Promise.all(resources.map((r) => (r as { stop?: () => unknown } | undefined)?.stop?.()));
}

async function clearAccounts(authHost: string): Promise<void> {
  const res = await fetch(`http://${authHost}/emulator/v1/projects/${projectId}/accounts`, { method: "DELETE" });
  if (!res.ok) throw new Error(`clearing Auth emulator accounts failed: HTTP ${res.status}`);
}

async function flushRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}

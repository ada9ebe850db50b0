import { randomBytes } from "node:crypto";
/**
 * The local stack: `npm start` from the repository root.
 * Starts the Auth and Functions emulators from the project's own firebase-tools, Firestore (official
 * emulator when this machine can run it, else the in-process Node emulator), Redis (REDIS_URL, else a
 * local redis-server, else in-memory presence), then starts the gateway through `websocketServer /start`
 * and prints how to connect. Ctrl-C stops everything it started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { firebaseBin, functionsDir } from "./auth-emulator";
import { FirestoreEmulator } from "./firestore-emulator";
import { freePort, waitFor } from "./free-port";
import { OwnedProcess } from "./processes";
import { LocalRedis, redisAnswers, redisServerInstalled } from "./redis-server";

const projectId = process.env.GCLOUD_PROJECT || "demo-talowa";
const rootDir = resolve(functionsDir, "..");
const baseConfig = JSON.parse(readFileSync(join(rootDir, "firebase.json"), "utf8"));
const ports = {
  auth: baseConfig.emulators.auth.port as number,
  functions: baseConfig.emulators.functions.port as number,
  firestore: baseConfig.emulators.firestore.port as number,
  gateway: Number(process.env.GATEWAY_PORT || 8081),
  redis: 6379,
};
const stoppers: Array<() => Promise<void> | void> = [];
const notes: string[] = [];

async function main(): Promise<void> {
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  const redisUrl = await chooseRedis();
  const firestore = await chooseFirestore();
  const uiCached = cachedEmulatorFile(/^ui-v.*\.zip$/) !== undefined;
  if (!uiCached) notes.push("Emulator UI: left out (its download is not cached on this machine).");
  notes.push("Pub/Sub emulator: left out (download); the scheduled keep-alive is tested with firebase-functions-test.");

  const only = ["auth", "functions", ...(firestore === "official" ? ["firestore"] : [])];
  const configPath = join(rootDir, "firebase.local.json");
  writeFileSync(configPath, JSON.stringify({ ...baseConfig, emulators: { ...baseConfig.emulators, ui: { ...baseConfig.emulators.ui, enabled: uiCached } } }, null, 2));
  stoppers.push(() => {
    if (existsSync(configPath)) execFileSync("rm", ["-f", configPath]);
  });

  // The control plane and the gateway (another worker of the emulator) share CONTROL_SECRET; one per run.
  const env = { ...process.env, CONTROL_SECRET: process.env.CONTROL_SECRET || randomBytes(32).toString("base64url"), GATEWAY_PORT: String(ports.gateway), REDIS_URL: redisUrl ?? "", FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" };
  const emulators = OwnedProcess.start("firebase emulators", firebaseBin, ["emulators:start", "--only", only.join(","), "--project", projectId, "--config", configPath, "--non-interactive"], { cwd: rootDir, env });
  emulators.child.stdout?.pipe(process.stdout);
  emulators.child.stderr?.pipe(process.stderr);
  stoppers.unshift(() => emulators.stop(15_000));

  const functionsBase = `http://127.0.0.1:${ports.functions}/${projectId}/us-central1`;
  await waitFor(async () => {
    if (!emulators.alive) throw new Error("the Firebase emulators exited");
    return (await fetch(`${functionsBase}/getWebSocketInfo`)).ok;
  }, "the Functions emulator", 120_000, 500);

  const adminToken = await adminIdToken();
  const started = await fetch(`${functionsBase}/websocketServer/start`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } });
  const startBody = await started.json();
  if (!started.ok) throw new Error(`websocketServer /start failed: ${JSON.stringify(startBody)}`);

  printBanner(functionsBase, adminToken, redisUrl, firestore);
}

async function chooseRedis(): Promise<string | undefined> {
  const given = process.env.REDIS_URL;
  if (given) {
    const url = new URL(given);
    if (await redisAnswers(Number(url.port || 6379), url.hostname)) return given;
    notes.push(`Redis at REDIS_URL=${given} did not answer.`);
  }
  if (redisServerInstalled()) {
    const port = (await redisAnswers(ports.redis)) ? await freePort() : ports.redis;
    const redis = await LocalRedis.start(port);
    stoppers.push(() => redis.stop());
    return redis.url;
  }
  notes.push("Redis: none reachable and redis-server is not installed; presence and rate limits run in memory.");
  return undefined;
}

async function chooseFirestore(): Promise<"official" | "node"> {
  if (canRunOfficialFirestore()) return "official";
  delete process.env.FIRESTORE_EMULATOR_HOST;
  const emulator = await FirestoreEmulator.start(ports.firestore);
  stoppers.push(() => emulator.stop());
  notes.push(`Firestore: the in-process Node emulator on 127.0.0.1:${ports.firestore} (the official one needs Java 21+ and a cached download).`);
  return "node";
}

function canRunOfficialFirestore(): boolean {
  if (!cachedEmulatorFile(/^cloud-firestore-emulator-.*\.jar$/)) return false;
  try {
    const version = execFileSync("java", ["-version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).toString();
    return javaMajor(version) >= 21;
  } catch (error) {
    return javaMajor(String((error as { stderr?: unknown }).stderr ?? "")) >= 21;
  }
}

function javaMajor(text: string): number {
  return Number(/version "(\d+)/.exec(text)?.[1] ?? 0);
}

function cachedEmulatorFile(pattern: RegExp): string | undefined {
  const dir = join(homedir(), ".cache", "firebase", "emulators");
  return existsSync(dir) ? readdirSync(dir).find((f) => pattern.test(f)) : undefined;
}

/** An admin user in the Auth emulator, to call /start with; created through the emulator's REST API. */
async function adminIdToken(): Promise<string> {
  const base = `http://127.0.0.1:${ports.auth}`;
  const email = "admin@talowa.local";
  const password = "talowa-admin";
  await fetch(`${base}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const signIn = async () =>
    (await (
      await fetch(`${base}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password, returnSecureToken: true }),
      })
    ).json()) as { idToken: string; localId: string };
  const { localId } = await signIn();
  await fetch(`${base}/identitytoolkit.googleapis.com/v1/projects/${projectId}/accounts:update`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer owner" },
    body: JSON.stringify({ localId, customAttributes: JSON.stringify({ admin: true }) }),
  });
  return (await signIn()).idToken;
}

function printBanner(functionsBase: string, adminToken: string, redisUrl: string | undefined, firestore: string): void {
  const auth = `http://127.0.0.1:${ports.auth}`;
  const lines = [
    "",
    "TALOWA messaging — local stack is up",
    `  Socket.IO gateway   http://127.0.0.1:${ports.gateway}  (path /socket.io)`,
    `  /status             ${functionsBase}/websocketServer/status`,
    `  connection info     ${functionsBase}/getWebSocketInfo`,
    `  Auth emulator       ${auth}`,
    `  Firestore           ${firestore === "official" ? "official emulator" : "Node emulator"} on 127.0.0.1:${ports.firestore}`,
    `  Redis               ${redisUrl ?? "none (in-memory presence)"}`,
    "",
    "Connect a test client (signs up a user in the Auth emulator and prints what it receives):",
    `  npm run client -- --email you@example.com`,
    "Or get an ID token yourself and pass it as { auth: { token } } to socket.io-client:",
    `  curl -s -X POST '${auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any' -H 'content-type: application/json' -d '{"email":"you@example.com","password":"secret1","returnSecureToken":true}'`,
    "Full status as admin (admin@talowa.local / talowa-admin, claim admin: true):",
    `  curl -s -H 'Authorization: Bearer ${adminToken}' ${functionsBase}/websocketServer/status`,
    ...notes.map((n) => `  note: ${n}`),
    "Ctrl-C stops everything this started.",
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  process.stdout.write("\nstopping the local stack…\n");
  for (const stop of stoppers) await Promise.resolve(stop()).catch(() => undefined);
  process.exit(code);
}

main().catch(async (error) => {
  process.stderr.write(`local stack failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
});

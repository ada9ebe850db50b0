import { randomBytes } from "node:crypto";
/**
 * The local stack: `npm start` from the repository root.
 * Starts the Auth and Functions emulators from the project's own firebase-tools, Firestore (official
 * emulator when this machine can run it, else the in-process Node emulator), Redis (REDIS_URL, else a
 * local redis-server, else in-memory presence), builds the web app (web/) and serves it with the Hosting
 * emulator, then starts the gateway through `websocketServer /start` and prints how to connect.
 * Ctrl-C stops everything it started, also when its output is piped (`npm start | tee log`).
 * LOCAL_STACK_PORT_OFFSET=N moves every port by N (to run beside another stack on the same machine).
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
const offset = Number(process.env.LOCAL_STACK_PORT_OFFSET || 0);
const ports = {
  auth: offset + (baseConfig.emulators.auth.port as number),
  functions: offset + (baseConfig.emulators.functions.port as number),
  firestore: offset + (baseConfig.emulators.firestore.port as number),
  hosting: offset + (baseConfig.emulators.hosting.port as number),
  hub: offset + 4400,
  logging: offset + 4500,
  gateway: Number(process.env.GATEWAY_PORT || 8081 + offset),
  redis: 6379 + offset,
};
const stoppers: Array<() => Promise<void> | void> = [];
/** Every child process this started, ended by PID on exit if a stopper could not run. */
const children: OwnedProcess[] = [];
const notes: string[] = [];

async function main(): Promise<void> {
  // Piped output (`npm start | tee log`): Ctrl-C ends the reader too, and a write to the closed pipe must
  // not crash this process before it has stopped its children.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));
  process.on("uncaughtException", (error) => {
    say(`local stack: ${error.message}`);
    void shutdown(1);
  });
  process.on("exit", () => {
    for (const child of children) if (child.alive && child.pid) tryKill(child.pid);
  });

  const redisUrl = await chooseRedis();
  const firestore = await chooseFirestore();
  const uiCached = cachedEmulatorFile(/^ui-v.*\.zip$/) !== undefined;
  if (!uiCached) notes.push("Emulator UI: left out (its download is not cached on this machine).");
  notes.push("Pub/Sub emulator: left out (download); the scheduled keep-alive is tested with firebase-functions-test.");

  buildWebApp();
  const only = ["auth", "functions", "hosting", ...(firestore === "official" ? ["firestore"] : [])];
  const configPath = join(rootDir, "firebase.local.json");
  writeFileSync(configPath, JSON.stringify(localConfig(uiCached), null, 2));
  stoppers.push(() => {
    if (existsSync(configPath)) execFileSync("rm", ["-f", configPath]);
  });

  // The control plane and the gateway (another worker of the emulator) share CONTROL_SECRET; one per run.
  const env = { ...process.env, CONTROL_SECRET: process.env.CONTROL_SECRET || randomBytes(32).toString("base64url"), GATEWAY_PORT: String(ports.gateway), REDIS_URL: redisUrl ?? "", FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" };
  const emulators = OwnedProcess.start("firebase emulators", firebaseBin, ["emulators:start", "--only", only.join(","), "--project", projectId, "--config", configPath, "--non-interactive"], { cwd: rootDir, env });
  children.push(emulators);
  emulators.child.stdout?.on("data", (chunk: Buffer) => say(chunk.toString(), ""));
  emulators.child.stderr?.on("data", (chunk: Buffer) => say(chunk.toString(), ""));
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
    const redis = new LocalRedis(port);
    stoppers.push(() => redis.stop());
    await redis.start();
    if (redis.child) children.push(redis.child);
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

/** The emulators' settings with this run's ports (and the offset), the UI only if its download is cached. */
function localConfig(uiCached: boolean) {
  const e = baseConfig.emulators;
  const at = (port: number) => ({ host: "127.0.0.1", port });
  return {
    ...baseConfig,
    emulators: {
      ...e,
      auth: at(ports.auth),
      functions: at(ports.functions),
      firestore: at(ports.firestore),
      hosting: at(ports.hosting),
      hub: at(ports.hub),
      logging: at(ports.logging),
      ui: { ...e.ui, enabled: uiCached },
    },
  };
}

/** web/dist, with a config.json naming this stack's Auth emulator and gateway. */
function buildWebApp(): void {
  const config = { projectId, authEmulatorUrl: `http://127.0.0.1:${ports.auth}`, gatewayUrl: `http://127.0.0.1:${ports.gateway}` };
  execFileSync(process.execPath, [join(rootDir, "web", "build.mjs"), "--config", JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
}

function printBanner(functionsBase: string, adminToken: string, redisUrl: string | undefined, firestore: string): void {
  const auth = `http://127.0.0.1:${ports.auth}`;
  const lines = [
    "",
    "TALOWA messaging — local stack is up",
    `  Web app             http://127.0.0.1:${ports.hosting}  (open it in two browser windows, sign up twice, chat)`,
    `  Socket.IO gateway   http://127.0.0.1:${ports.gateway}  (path /socket.io)`,
    `  /status             ${functionsBase}/websocketServer/status`,
    `  connection info     ${functionsBase}/getWebSocketInfo`,
    `  HTTP API            ${functionsBase}/api  (docs/HTTP-API.md)`,
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
    "Analytics over the HTTP API, as that admin:",
    `  curl -s -H 'Authorization: Bearer ${adminToken}' ${functionsBase}/api/admin/analytics/user-sessions`,
    ...notes.map((n) => `  note: ${n}`),
    "Ctrl-C stops everything this started.",
    "",
  ];
  say(lines.join("\n"));
}

/** Writes a line to the terminal; a closed pipe is not an error worth dying for. */
function say(text: string, end = "\n"): void {
  try {
    process.stdout.write(text + end);
  } catch {
    /* the reader went away */
  }
}

function tryKill(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
      return;
    } catch {
      /* already gone */
    }
  }
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  say("\nstopping the local stack…");
  for (const stop of stoppers) await Promise.resolve(stop()).catch(() => undefined);
  say("stopped.");
  process.exit(code);
}

main().catch(async (error) => {
  say(`local stack failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
});

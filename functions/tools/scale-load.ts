/**
 * Load generator of the scale measurement (tools/scale.ts forks it; never run it by hand).
 * Holds socket.io-client sockets for a block of users, each connected to the gateway instance the
 * parent chose, sends direct messages at the rate the parent sets, counts `new_message` deliveries per
 * instance and reports through IPC. All it knows of the run comes from the parent's messages.
 */
import { io as connectClient, Socket } from "socket.io-client";
import type { ChatMessage, ClientToServerEvents, ServerToClientEvents } from "../src/protocol";

export interface LoadClient {
  index: number;
  uid: string;
  token: string;
  url: string;
  instance: number;
  peerUid: string;
}

export type ParentMessage =
  | { type: "connect"; clients: LoadClient[]; instances: number }
  | { type: "prime" }
  | { type: "rate"; perSecond: number }
  | { type: "window"; phase: "begin" | "end" }
  | { type: "totals" }
  | { type: "disconnect" }
  | { type: "close" };

export interface WindowReport {
  type: "window";
  phase: "begin" | "end";
  /** Deliveries (`new_message`) received by the clients of each instance inside the window. */
  deliveredByInstance: number[];
  /** Sends acknowledged `ok` for the clients of each instance inside the window. */
  ackedByInstance: number[];
  /** Send → recipient latency (ms) of the deliveries inside the window. */
  deliveryLatencyMs: number[];
  /** Send → ack latency (ms) of the acks inside the window. */
  ackLatencyMs: number[];
  sent: number;
  /** Sends not made because too many were still unacknowledged (the system fell behind the rate). */
  skipped: number;
  cpuMicros: number;
}

export interface TotalsReport {
  type: "totals";
  sent: number;
  ackedOk: number;
  ackFailed: number;
  ackErrors: Record<string, number>;
  delivered: number;
  /** Deliveries of a message id this generator had already seen (should stay 0). */
  duplicates: number;
  outstanding: number;
}

export type ChildMessage =
  | { type: "connected"; connected: number; failed: number; firstError?: string }
  | { type: "primed"; ok: number; failed: number; firstError?: string }
  | { type: "rate-set" }
  | { type: "disconnected" }
  | WindowReport
  | TotalsReport
  | { type: "error"; message: string };

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Connected extends LoadClient {
  socket: ClientSocket;
  counter: number;
}

const ACK_TIMEOUT_MS = 10_000;
const CONNECTS_IN_FLIGHT = 50;
const CONTENT_PAD = "x".repeat(64);

let clients: Connected[] = [];
/** Bumped by "disconnect": late acks of an earlier point are ignored. */
let generation = 0;
let instances = 1;
let next = 0;
let ratePerSecond = 0;
let rateStartedAt = 0n;
let sentAtRate = 0;
let timer: NodeJS.Timeout | undefined;
let inWindow = false;
let cpuAtBegin = process.cpuUsage();

const totals = { sent: 0, ackedOk: 0, ackFailed: 0, delivered: 0, duplicates: 0, outstanding: 0, skipped: 0 };
const ackErrors: Record<string, number> = {};
const seen = new Set<string>();
let win = freshWindow();

function freshWindow() {
  return {
    deliveredByInstance: new Array<number>(instances).fill(0),
    ackedByInstance: new Array<number>(instances).fill(0),
    deliveryLatencyMs: [] as number[],
    ackLatencyMs: [] as number[],
    sent: 0,
    skipped: 0,
  };
}

const send = (message: ChildMessage) => process.send?.(message);
const nowNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC: comparable between processes of one machine

process.on("message", (raw) => {
  const message = raw as ParentMessage;
  handle(message).catch((error) => send({ type: "error", message: error instanceof Error ? error.stack ?? error.message : String(error) }));
});
process.on("disconnect", () => process.exit(0)); // the parent went away: never linger

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case "connect":
      instances = message.instances;
      win = freshWindow();
      send({ type: "connected", ...(await connectAll(message.clients)) });
      return;
    case "prime":
      send({ type: "primed", ...(await prime()) });
      return;
    case "rate":
      setRate(message.perSecond);
      send({ type: "rate-set" });
      return;
    case "window":
      if (message.phase === "begin") {
        win = freshWindow();
        cpuAtBegin = process.cpuUsage();
        inWindow = true;
      } else {
        inWindow = false;
      }
      {
        const cpu = process.cpuUsage(cpuAtBegin);
        send({ type: "window", phase: message.phase, ...win, cpuMicros: cpu.user + cpu.system });
      }
      return;
    case "totals":
      send({ type: "totals", ...totals, ackErrors });
      return;
    case "disconnect":
      setRate(0);
      for (const c of clients) c.socket.disconnect();
      clients = [];
      next = 0;
      generation++;
      seen.clear();
      Object.assign(totals, { sent: 0, ackedOk: 0, ackFailed: 0, delivered: 0, duplicates: 0, outstanding: 0, skipped: 0 });
      for (const code of Object.keys(ackErrors)) delete ackErrors[code];
      send({ type: "disconnected" });
      return;
    case "close":
      setRate(0);
      for (const c of clients) c.socket.disconnect();
      clients = [];
      setTimeout(() => process.exit(0), 100);
      return;
  }
}

async function connectAll(list: LoadClient[]) {
  let failed = 0;
  let firstError: string | undefined;
  const queue = [...list];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      try {
        clients.push(await connectOne(item));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? `${error.message} ${JSON.stringify((error as { data?: unknown }).data ?? "")}` : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTS_IN_FLIGHT }, worker));
  clients.sort((a, b) => a.index - b.index);
  return { connected: clients.length, failed, firstError };
}

function connectOne(client: LoadClient): Promise<Connected> {
  const socket: ClientSocket = connectClient(client.url, {
    transports: ["websocket"],
    auth: { token: client.token },
    reconnection: false,
    forceNew: true,
    timeout: 20_000,
  });
  const connected: Connected = { ...client, socket, counter: 0 };
  socket.on("new_message", (m) => onDelivery(connected, m));
  return new Promise((resolve, reject) => {
    socket.once("auth_success", () => resolve(connected));
    socket.once("connect_error", (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}

function onDelivery(client: Connected, message: ChatMessage): void {
  const stamp = /^t=(\d+);/.exec(message.content);
  if (!stamp) return; // not one of ours
  totals.delivered++;
  if (seen.has(message.id)) totals.duplicates++;
  else seen.add(message.id);
  if (!inWindow) return;
  win.deliveredByInstance[client.instance]++;
  win.deliveryLatencyMs.push(Number(nowNs() - BigInt(stamp[1])) / 1e6);
}

/** One message from every client, waited for: creates every direct conversation before the clock starts. */
async function prime() {
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const queue = [...clients];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const result = await new Promise<string | undefined>((resolve) => sendOne(c, resolve));
      if (result === undefined) ok++;
      else {
        failed++;
        firstError ??= result;
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  return { ok, failed, firstError };
}

/** Sends one message from `client` to its peer; `done` gets undefined on an ok ack, else the error. */
function sendOne(client: Connected, done?: (error: string | undefined) => void): void {
  const startedAt = nowNs();
  const sentIn = generation;
  totals.sent++;
  totals.outstanding++;
  if (inWindow) win.sent++;
  const payload = {
    clientId: `s${client.index}-${++client.counter}`,
    type: "text" as const,
    content: `t=${startedAt};${CONTENT_PAD}`,
    recipientId: client.peerUid,
  };
  client.socket.timeout(ACK_TIMEOUT_MS).emit("send_message", payload, (err: Error | null, reply?: { ok: boolean; error?: { code: string } }) => {
    if (sentIn !== generation) return;
    totals.outstanding--;
    const code = err ? "ACK_TIMEOUT" : reply?.ok ? undefined : (reply?.error?.code ?? "NO_REPLY");
    if (code === undefined) {
      totals.ackedOk++;
      if (inWindow) {
        win.ackedByInstance[client.instance]++;
        win.ackLatencyMs.push(Number(nowNs() - startedAt) / 1e6);
      }
    } else {
      totals.ackFailed++;
      ackErrors[code] = (ackErrors[code] ?? 0) + 1;
    }
    done?.(code);
  });
}

/** Open loop: every 5 ms, send what the rate owes since it was set (round robin over the clients). */
function setRate(perSecond: number): void {
  if (timer) clearInterval(timer);
  timer = undefined;
  ratePerSecond = perSecond;
  if (perSecond <= 0 || clients.length === 0) return;
  rateStartedAt = nowNs();
  sentAtRate = 0;
  const maxOutstanding = Math.max(100, perSecond * 2);
  timer = setInterval(() => {
    const elapsedS = Number(nowNs() - rateStartedAt) / 1e9;
    const owed = Math.floor(elapsedS * ratePerSecond) - sentAtRate;
    for (let i = 0; i < owed; i++) {
      sentAtRate++;
      if (totals.outstanding >= maxOutstanding) {
        totals.skipped++;
        if (inWindow) win.skipped++;
        continue;
      }
      sendOne(clients[next]);
      next = (next + 1) % clients.length;
    }
  }, 5);
}

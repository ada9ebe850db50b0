/**
 * A load generator worker: its own process holding a share of the clients (socket.io-client,
 * websocket transport), driven by the runner over IPC. Senders and recipients of direct messages
 * are paired inside one worker (client 2k <-> 2k+1), so each latency is measured with one clock.
 * Group receipts cross processes and use epoch time (performance.timeOrigin + now).
 */
import { io, Socket } from "socket.io-client";
import type { ChatMessage, ClientToServerEvents, ServerToClientEvents } from "../../src/protocol";
import { reconnectDelay } from "../lib/backoff";
import { Histogram } from "../lib/histogram";
import {
  BenchUser,
  ConnectResult,
  DirectResult,
  epochNow,
  GroupReport,
  GroupSendResult,
  PresenceResult,
  serveIpc,
  StormResult,
  sleep,
  WorkerRequest,
} from "../lib/ipc";

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type AckBody = { ok: boolean; error?: { code?: string; message?: string } } & Record<string, unknown>;

interface Client {
  uid: string;
  socket: ClientSocket;
}

const workerId = process.env.BENCH_WORKER_ID ?? String(process.pid);
/** Clients in the order the runner gave their users (a failed connection leaves a hole). */
let clients: Array<Client | undefined> = [];
const live = () => clients.filter((c): c is Client => c !== undefined);
let heartbeatTimer: NodeJS.Timeout | undefined;
let messageCounter = 0;
/** Sends whose ack has not come back yet, across phases (the runner waits for them between loads). */
let outstanding = 0;

// direct-message phase
const pending = new Map<string, number>();
let latency = new Histogram();
let received = 0;
let unexpected = 0;
let echoes = 0;

// group phase
let groupConversation = "";
let groupReceipts = new Map<string, { count: number; last: number }>();

const nextClientId = () => `b${workerId}-${++messageCounter}`;
const contentOf = (bytes: number) => "m".repeat(Math.max(1, bytes));

function onMessage(client: Client, message: ChatMessage): void {
  if (message.senderId === client.uid) {
    echoes += 1; // the sender's own copy (multi-device sync), not a delivery
    return;
  }
  if (groupConversation && message.conversationId === groupConversation) {
    const now = epochNow();
    const entry = groupReceipts.get(message.clientId);
    if (entry) {
      entry.count += 1;
      if (now > entry.last) entry.last = now;
    } else groupReceipts.set(message.clientId, { count: 1, last: now });
    return;
  }
  const sentAt = pending.get(message.clientId);
  if (sentAt === undefined) {
    unexpected += 1;
    return;
  }
  latency.record(performance.now() - sentAt);
  pending.delete(message.clientId);
  received += 1;
}

function errorKey(error: unknown): string {
  const e = error as { message?: string; data?: { code?: string; reason?: string } };
  return e?.data?.reason ?? e?.data?.code ?? e?.message ?? String(error);
}

function openSocket(url: string, user: BenchUser, localAddress: string, timeoutMs = 20_000): ClientSocket {
  return io(url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    auth: { token: user.token, uid: user.uid },
    localAddress,
  } as Parameters<typeof io>[1]);
}

async function connect(req: Extract<WorkerRequest, { cmd: "connect" }>): Promise<ConnectResult> {
  const handshake = new Histogram();
  const errors: Record<string, number> = {};
  let connected = 0;
  let failed = 0;
  let inFlight = 0;
  let next = 0;
  const rssBefore = process.memoryUsage().rss;
  const base = clients.length;
  clients.length = base + req.users.length;
  const firstStart = epochNow();
  const launchDeadline = performance.now() + req.launchWindowMs;
  let lastDone = firstStart;

  await new Promise<void>((resolve) => {
    const finished = () => inFlight === 0 && (next >= req.users.length || performance.now() >= launchDeadline);
    const launch = () => {
      while (inFlight < req.concurrency && next < req.users.length && performance.now() < launchDeadline) {
        const position = next;
        const user = req.users[position];
        const localAddress = req.localAddresses[position % req.localAddresses.length];
        next += 1;
        inFlight += 1;
        const started = performance.now();
        const socket = openSocket(req.url, user, localAddress);
        const client: Client = { uid: user.uid, socket };
        let settled = false;
        const settle = (ok: boolean, error?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          inFlight -= 1;
          lastDone = epochNow();
          if (ok) {
            connected += 1;
            handshake.record(performance.now() - started);
            clients[base + position] = client;
          } else {
            failed += 1;
            const key = errorKey(error);
            errors[key] = (errors[key] ?? 0) + 1;
            socket.disconnect();
          }
          if (finished()) resolve();
          else launch();
        };
        const timer = setTimeout(() => settle(false, new Error("no auth_success in time")), req.timeoutMs);
        socket.on("new_message", (message) => onMessage(client, message));
        socket.once("auth_success", () => settle(true));
        socket.once("connect_error", (error) => settle(false, error));
        socket.once("disconnect", (reason) => settle(false, new Error(`disconnected: ${reason}`)));
      }
    };
    launch();
    if (finished()) resolve();
  });

  clients.length = base + next;
  if (req.heartbeats) startHeartbeats();
  return {
    attempted: next,
    connected,
    failed,
    errors,
    firstStartEpochMs: firstStart,
    lastDoneEpochMs: lastDone,
    handshake: handshake.toJSON(),
    rssGrowthBytes: process.memoryUsage().rss - rssBefore,
  };
}

/** Every client sends `heartbeat` once per 15 s, spread over the period (one timer for the worker). */
function startHeartbeats(): void {
  if (heartbeatTimer) return;
  const periodSeconds = 15;
  let tick = 0;
  heartbeatTimer = setInterval(() => {
    tick += 1;
    for (let i = tick % periodSeconds; i < clients.length; i += periodSeconds) {
      const client = clients[i];
      if (client?.socket.connected) client.socket.emit("heartbeat");
    }
  }, 1_000);
}

async function disconnectAll(): Promise<number> {
  const all = live();
  for (const client of all) client.socket.disconnect();
  outstanding = 0; // acks of a closed socket never come
  clients = [];
  if (heartbeatTimer) clearInterval(heartbeatTimer);
  heartbeatTimer = undefined;
  pending.clear();
  await sleep(100);
  return all.length;
}

function ackWithTimeout(socket: ClientSocket, event: string, payload: unknown, timeoutMs: number): Promise<AckBody> {
  return new Promise((resolve, reject) => {
    (socket as unknown as Socket).timeout(timeoutMs).emit(event, payload, (error: Error | null, body: AckBody) => {
      if (error) reject(new Error(`no ack to ${event} within ${timeoutMs} ms (is the event implemented?)`));
      else resolve(body);
    });
  });
}

/** One direct message, to learn whether the target speaks the messaging protocol. */
async function probe(req: Extract<WorkerRequest, { cmd: "probe" }>) {
  const sender = clients[req.sender];
  if (!sender) throw new Error(`no client ${req.sender}`);
  const clientId = nextClientId();
  const started = performance.now();
  const ack = await ackWithTimeout(
    sender.socket,
    "send_message",
    { clientId, type: "text", content: "probe", recipientId: req.recipientUid },
    req.timeoutMs,
  );
  return { ack, ms: performance.now() - started };
}

async function direct(req: Extract<WorkerRequest, { cmd: "direct" }>): Promise<DirectResult> {
  const firstN = live().slice(0, req.activeClients);
  const active = firstN.slice(0, firstN.length - (firstN.length % 2));
  if (active.length < 2) throw new Error("a direct-message load needs at least 2 clients in each worker");
  const content = contentOf(req.contentBytes);
  pending.clear();
  latency = new Histogram();
  const ackLatency = new Histogram();
  const ackErrors: Record<string, number> = {};
  received = 0;
  unexpected = 0;
  echoes = 0;
  let sent = 0;
  let acked = 0;
  let refusedWithRetryAfter = 0;
  let cursor = 0;
  let maxBehindMs = 0;
  const start = performance.now();
  let sendEnd = start;

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - start, req.durationMs);
      const due = Math.floor((elapsed / 1000) * req.rate) - sent;
      if (due > 0) maxBehindMs = Math.max(maxBehindMs, (due / req.rate) * 1000);
      for (let k = 0; k < due; k++) {
        const i = cursor;
        cursor = (cursor + 1) % active.length;
        const from = active[i];
        const to = active[i ^ 1];
        const clientId = nextClientId();
        const sentAt = performance.now();
        pending.set(clientId, sentAt);
        sent += 1;
        outstanding += 1;
        from.socket.emit("send_message", { clientId, type: "text", content, recipientId: to.uid }, (ack) => {
          outstanding -= 1;
          if (ack.ok) {
            acked += 1;
            ackLatency.record(performance.now() - sentAt);
          } else {
            const code = ack.error?.code ?? "UNKNOWN";
            ackErrors[code] = (ackErrors[code] ?? 0) + 1;
            if (code === "UNAVAILABLE" && typeof (ack.error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs === "number") refusedWithRetryAfter += 1;
            pending.delete(clientId); // refused: never delivered, counted as an ack error, not as loss
          }
        });
      }
      if (now - start >= req.durationMs) {
        clearInterval(tick);
        sendEnd = performance.now();
        resolve();
      }
    }, 2);
  });

  // Drain: wait for what is in flight (bounded).
  const drainDeadline = performance.now() + req.drainMs;
  while (performance.now() < drainDeadline) {
    const errors = Object.values(ackErrors).reduce((a, b) => a + b, 0);
    if (pending.size === 0 && acked + errors >= sent) break;
    await sleep(20);
  }
  const lost = pending.size;
  pending.clear();
  return {
    targetRate: req.rate,
    sent,
    sendSeconds: (sendEnd - start) / 1000,
    acked,
    ackErrors,
    received,
    lost,
    unexpected,
    echoes,
    refusedWithRetryAfter,
    maxBehindMs,
    latency: latency.toJSON(),
    ackLatency: ackLatency.toJSON(),
  };
}

async function groupCreate(req: Extract<WorkerRequest, { cmd: "groupCreate" }>) {
  const sender = clients[req.sender];
  if (!sender) throw new Error(`no client ${req.sender}`);
  const ack = await ackWithTimeout(sender.socket, "create_group", { name: req.name, memberIds: req.memberIds }, req.timeoutMs);
  if (!ack.ok) throw new Error(`create_group refused: ${JSON.stringify(ack.error)}`);
  const conversation = ack.conversation as { id: string; members?: string[] };
  return { conversationId: conversation.id, members: conversation.members?.length ?? null };
}

async function groupSend(req: Extract<WorkerRequest, { cmd: "groupSend" }>): Promise<GroupSendResult> {
  const sender = clients[req.sender];
  if (!sender) throw new Error(`no client ${req.sender}`);
  const content = contentOf(req.contentBytes);
  const sendTimes: Array<[string, number]> = [];
  const ackLatency = new Histogram();
  const ackErrors: Record<string, number> = {};
  let acked = 0;
  for (let k = 0; k < req.count; k++) {
    const clientId = nextClientId();
    const startedAt = performance.now();
    sendTimes.push([clientId, epochNow()]);
    outstanding += 1;
    sender.socket.emit("send_message", { clientId, type: "text", content, conversationId: req.conversationId }, (ack) => {
      outstanding -= 1;
      if (ack.ok) {
        acked += 1;
        ackLatency.record(performance.now() - startedAt);
      } else {
        const code = ack.error?.code ?? "UNKNOWN";
        ackErrors[code] = (ackErrors[code] ?? 0) + 1;
      }
    });
    await sleep(req.intervalMs);
  }
  const deadline = performance.now() + 10_000;
  while (acked + Object.values(ackErrors).reduce((x, y) => x + y, 0) < req.count && performance.now() < deadline) await sleep(20);
  return { sendTimes, acked, ackErrors, ackLatency: ackLatency.toJSON() };
}

/**
 * Presence: a subject user (one device) connects, sends the subscriber a message so they share a
 * conversation, the subscriber subscribes to the subject's presence; then, repeatedly, the subject
 * disconnects cleanly and we time until the subscriber sees it offline.
 * Assumed protocol (docs/PROTOCOL.md once presence lands): `presence_subscribe({ userIds }, ack)`,
 * server event `presence_update({ userId, status, ... })`.
 */
async function presence(req: Extract<WorkerRequest, { cmd: "presence" }>): Promise<PresenceResult> {
  const subscriber = clients[req.subscriber];
  if (!subscriber) throw new Error(`no client ${req.subscriber}`);
  const sub = subscriber.socket as unknown as Socket;
  const connectSubject = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = openSocket(req.url, req.subject, req.localAddress) as unknown as Socket;
      const timer = setTimeout(() => reject(new Error("subject: no auth_success")), req.timeoutMs);
      socket.once("auth_success", () => (clearTimeout(timer), resolve(socket)));
      socket.once("connect_error", (e: Error) => (clearTimeout(timer), reject(e)));
    });
  const statusOf = (update: Record<string, unknown>) => ({
    userId: (update.userId ?? update.uid) as string | undefined,
    status: (update.status ?? (update.online === false ? "offline" : update.online === true ? "online" : undefined)) as string | undefined,
  });
  const waitFor = (status: string, timeoutMs: number) =>
    new Promise<number | null>((resolve) => {
      const handler = (update: Record<string, unknown>) => {
        const s = statusOf(update ?? {});
        if (s.userId === req.subject.uid && s.status === status) {
          clearTimeout(timer);
          sub.off("presence_update", handler);
          resolve(performance.now());
        }
      };
      const timer = setTimeout(() => {
        sub.off("presence_update", handler);
        resolve(null);
      }, timeoutMs);
      sub.on("presence_update", handler);
    });

  let subject = await connectSubject();
  try {
    // a shared conversation, in case presence is only visible to contacts
    await ackWithTimeout(
      subject as unknown as ClientSocket,
      "send_message",
      { clientId: nextClientId(), type: "text", content: "hello", recipientId: subscriber.uid },
      req.timeoutMs,
    ).catch(() => undefined);
    let ack: AckBody;
    try {
      ack = await ackWithTimeout(subscriber.socket, "presence_subscribe", { userIds: [req.subject.uid] }, Math.min(3_000, req.timeoutMs));
    } catch (error) {
      return { supported: false, reason: `presence not merged (${(error as Error).message})`, samples: [], timeouts: 0 };
    }
    if (!ack.ok) {
      const unknown = /unknown event/i.test(ack.error?.message ?? "");
      return { supported: false, reason: unknown ? "presence not merged (presence_subscribe is an unknown event)" : `presence_subscribe refused: ${JSON.stringify(ack.error)}`, samples: [], timeouts: 0 };
    }

    const samples: number[] = [];
    let timeouts = 0;
    for (let r = 0; r < req.repeats; r++) {
      await sleep(150);
      const offline = waitFor("offline", req.timeoutMs);
      const t0 = performance.now();
      subject.disconnect();
      const seen = await offline;
      if (seen === null) timeouts += 1;
      else samples.push(seen - t0);
      if (r + 1 < req.repeats) {
        const online = waitFor("online", req.timeoutMs);
        subject = await connectSubject();
        await online;
      }
    }
    return { supported: true, samples, timeouts };
  } finally {
    subject.disconnect();
  }
}

/**
 * Queues messages for users who are offline, through the gateway like any send: `perUser` direct
 * messages from client `sender` to each recipient, `concurrency` awaiting their ack at a time. A send
 * refused with retryAfterMs (load shedding) is retried after that long with the same clientId.
 */
async function seed(req: Extract<WorkerRequest, { cmd: "seed" }>) {
  const sender = clients[req.sender];
  if (!sender) throw new Error(`no client ${req.sender}`);
  const jobs = req.recipients.flatMap((uid) => Array.from({ length: req.perUser }, (_, k) => ({ uid, k })));
  const deadline = performance.now() + req.timeoutMs;
  const errors: Record<string, number> = {};
  let acked = 0;
  let next = 0;
  const ackedBy: Record<string, number> = {};
  const lane = async () => {
    while (next < jobs.length && performance.now() < deadline) {
      const { uid, k } = jobs[next++];
      const payload = { clientId: nextClientId(), type: "text", content: `queued ${k + 1}`, recipientId: uid };
      for (let attempt = 0; attempt < 20 && performance.now() < deadline; attempt++) {
        const ack = await ackWithTimeout(sender.socket, "send_message", payload, 20_000).catch(() => ({ ok: false, error: { code: "TIMEOUT" } }) as AckBody);
        if (ack.ok) {
          acked += 1;
          ackedBy[uid] = (ackedBy[uid] ?? 0) + 1;
          break;
        }
        const code = ack.error?.code ?? "UNKNOWN";
        errors[code] = (errors[code] ?? 0) + 1;
        const retryAfter = (ack.error as { retryAfterMs?: number } | undefined)?.retryAfterMs;
        await sleep(typeof retryAfter === "number" ? retryAfter : 500);
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, lane));
  return { sent: jobs.length, acked, errors, ackedBy };
}

/**
 * Reconnect storm: every user reconnects at once (as after an instance restart) the way the app does,
 * through the client library's backoff (bench/lib/backoff.ts): a first attempt after 125–250 ms, then
 * after each failure an exponential, jittered pause, never sooner than the gateway's retryAfterMs. Each
 * attempt is one socket with socket.io-client's connect timeout; a failed one is closed before the next.
 * Done when every user is admitted and has `expected[i]` messages, or at the timeout (no attempt starts
 * after it).
 */
async function storm(req: Extract<WorkerRequest, { cmd: "storm" }>): Promise<StormResult> {
  const admittedMs = new Histogram();
  const completeMs = new Histogram();
  const errors: Record<string, number> = {};
  let admitted = 0;
  let complete = 0;
  let shed = 0;
  let attempts = 0;
  let gaveUp = 0;
  let lastAdmitted = 0;
  let lastComplete = 0;
  const start = epochNow();
  const t0 = performance.now();
  const deadline = t0 + req.timeoutMs;
  await new Promise<void>((resolve) => {
    let settled = 0;
    const finished = () => {
      settled += 1;
      if (settled === req.users.length) resolve();
    };
    const timer = setTimeout(resolve, req.timeoutMs + 1_000);
    timer.unref();
    req.users.forEach((user, i) => {
      const expectPerUser = req.expected[i] ?? 0;
      const localAddress = req.localAddresses[i % req.localAddresses.length];
      let got = 0;
      let failures = 0;
      let done = false;
      const completed = () => {
        done = true;
        complete += 1;
        lastComplete = epochNow();
        completeMs.record(performance.now() - t0);
        finished();
      };
      const retryLater = (retryAfterMs: number | undefined) => {
        const delay = reconnectDelay(failures, retryAfterMs);
        failures += 1;
        if (performance.now() + delay < deadline) setTimeout(attempt, delay);
        else {
          gaveUp += 1;
          finished();
        }
      };
      const attempt = () => {
        attempts += 1;
        const socket = openSocket(req.url, user, localAddress, req.attemptTimeoutMs);
        let admittedHere = false;
        socket.on("new_message", () => {
          got += 1;
          if (!done && got >= expectPerUser) completed();
        });
        socket.once("auth_success", () => {
          admittedHere = true;
          admitted += 1;
          lastAdmitted = epochNow();
          admittedMs.record(performance.now() - t0);
          clients.push({ uid: user.uid, socket });
          if (expectPerUser === 0 && !done) completed();
        });
        const failed = (key: string, retryAfterMs?: number) => {
          socket.removeAllListeners();
          socket.disconnect();
          if (retryAfterMs !== undefined) shed += 1;
          else errors[key] = (errors[key] ?? 0) + 1;
          if (!done) retryLater(retryAfterMs);
        };
        socket.once("connect_error", (error) => {
          const data = (error as { data?: { code?: string; retryAfterMs?: number } }).data;
          const retryAfter = data?.code === "UNAVAILABLE" && typeof data.retryAfterMs === "number" ? data.retryAfterMs : undefined;
          failed(errorKey(error), retryAfter);
        });
        // Admitted, then dropped before its queue arrived: the app reconnects (counted, not expected).
        socket.once("disconnect", (reason) => {
          if (admittedHere && !done) failed(`disconnected after admission: ${reason}`);
        });
      };
      // The library's first reconnection after a lost socket waits its first backoff step (125–250 ms).
      setTimeout(attempt, reconnectDelay(failures++, undefined));
    });
  });
  return {
    users: req.users.length,
    admitted,
    complete,
    shed,
    errors,
    attempts,
    retries: attempts - Math.min(attempts, req.users.length),
    gaveUp,
    startEpochMs: start,
    lastAdmittedEpochMs: lastAdmitted,
    lastCompleteEpochMs: lastComplete,
    admitted_ms: admittedMs.toJSON(),
    complete_ms: completeMs.toJSON(),
  };
}

serveIpc(async (request) => {
  const req = request as unknown as WorkerRequest;
  switch (req.cmd) {
    case "connect":
      return connect(req);
    case "disconnect":
      return disconnectAll();
    case "probe":
      return probe(req);
    case "direct":
      return direct(req);
    case "groupCreate":
      return groupCreate(req);
    case "groupTrack":
      groupConversation = req.conversationId;
      groupReceipts = new Map();
      return true;
    case "groupSend":
      return groupSend(req);
    case "groupReport": {
      const report: GroupReport = { receipts: [...groupReceipts].map(([id, e]) => [id, e.count, e.last]) };
      if (req.final) {
        groupConversation = "";
        groupReceipts = new Map();
      }
      return report;
    }
    case "presence":
      return presence(req);
    case "memory":
      return { ...process.memoryUsage(), clients: live().length };
    case "cpu":
      return process.cpuUsage();
    case "outstanding":
      return outstanding;
    case "storm":
      return storm(req);
    case "seed":
      return seed(req);
    default:
      throw new Error(`unknown command ${(req as { cmd: string }).cmd}`);
  }
});
process.send?.({ type: "ready" });

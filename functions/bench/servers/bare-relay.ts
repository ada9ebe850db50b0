/**
 * The reference: a bare Socket.IO 4.8 relay written for the benchmark. It speaks the same events as
 * the gateway so one load generator drives both, and does only what a relay must:
 * admission by a fixed token, `to(room).emit`, an ack. No storage, no validation beyond shape,
 * no rate limits, no presence.
 *   env BENCH_RELAY_TOKEN (the fixed token), BENCH_HOST
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { announceReady, serveControl } from "./control";

const TOKEN = process.env.BENCH_RELAY_TOKEN || "bench-token";
const host = process.env.BENCH_HOST || "127.0.0.1";
const userRoom = (uid: string) => `user:${uid}`;
const groupRoom = (id: string) => `group:${id}`;

const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000 });
const seqs = new Map<string, number>();
const groups = new Map<string, string[]>();
let groupCounter = 0;
let messageCounter = 0;

io.use((socket, next) => {
  const auth = socket.handshake.auth as { token?: string; uid?: string };
  if (auth.token !== TOKEN || typeof auth.uid !== "string" || !auth.uid) {
    const error = new Error("unauthenticated") as Error & { data?: unknown };
    error.data = { code: "UNAUTHENTICATED", reason: "TOKEN_INVALID" };
    return next(error);
  }
  socket.data.uid = auth.uid;
  next();
});

io.on("connection", (socket) => {
  const uid = socket.data.uid as string;
  socket.join(userRoom(uid));
  socket.emit("auth_success", { uid, roles: ["member"], instanceId: "bare", heartbeatIntervalMs: 15_000, presenceTtlMs: 45_000, serverTime: Date.now(), protocolVersion: 1 });

  socket.on("heartbeat", (ack?: (body: unknown) => void) => {
    if (typeof ack === "function") ack({ ok: true, serverTime: Date.now() });
  });

  socket.on("send_message", (payload: { clientId: string; type: string; content: string; recipientId?: string; conversationId?: string }, ack: (body: unknown) => void) => {
    if (typeof ack !== "function") return;
    if (!payload || typeof payload.content !== "string" || typeof payload.clientId !== "string") {
      return ack({ ok: false, error: { code: "INVALID_ARGUMENT", message: "bad payload" } });
    }
    let conversationId: string;
    let room: string;
    if (payload.conversationId) {
      if (!groups.has(payload.conversationId)) return ack({ ok: false, error: { code: "NOT_FOUND", message: "no such group" } });
      conversationId = payload.conversationId;
      room = groupRoom(conversationId);
    } else if (payload.recipientId) {
      conversationId = uid < payload.recipientId ? `dm_${uid}_${payload.recipientId}` : `dm_${payload.recipientId}_${uid}`;
      room = userRoom(payload.recipientId);
    } else {
      return ack({ ok: false, error: { code: "INVALID_ARGUMENT", message: "recipientId or conversationId" } });
    }
    const seq = (seqs.get(conversationId) ?? 0) + 1;
    seqs.set(conversationId, seq);
    const id = `m${++messageCounter}`;
    const createdAt = Date.now();
    socket.to(room).emit("new_message", {
      id,
      conversationId,
      seq,
      senderId: uid,
      type: payload.type,
      content: payload.content,
      encryptionLevel: "standard",
      isAnonymous: false,
      clientId: payload.clientId,
      clientTimestamp: null,
      createdAt,
      metadata: {},
    });
    ack({ ok: true, messageId: id, conversationId, seq, status: "sent", createdAt, duplicate: false });
  });

  socket.on("create_group", (payload: { name: string; memberIds: string[] }, ack: (body: unknown) => void) => {
    if (typeof ack !== "function") return;
    const id = `g${++groupCounter}`;
    const members = [...new Set([uid, ...(payload?.memberIds ?? [])])];
    groups.set(id, members);
    io.in(members.map(userRoom)).socketsJoin(groupRoom(id));
    ack({
      ok: true,
      conversation: { id, type: "group", name: payload?.name ?? null, members, admins: [uid], announcement: false, postingRoles: [], createdBy: uid, createdAt: Date.now() },
    });
  });
});

httpServer.listen({ port: 0, host, backlog: 4096 }, () => {
  const port = (httpServer.address() as AddressInfo).port;
  serveControl({
    connections: () => io.engine.clientsCount,
    stop: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
      }),
  });
  announceReady({ port, kind: "bare", settings: { transports: ["websocket"], listenBacklog: 4096, auth: "fixed token" }, notes: [] });
});

import { randomUUID } from "node:crypto";
import { z } from "zod";
import { GatewayError } from "../errors";
import { BlockChecks, requireNoBlockBetween } from "../ports/block-list/block-list";
import { CallEndReason, CallPhase, CallRecord, CallStatePort, CallTtls, GoneParty, partySocketOf } from "../ports/call-state";
import { directConversationId, type Conversation, type MessageStore } from "../ports/message-store";
import type { OnlineDirectory } from "../ports/presence-store/presence-store";
import type { PushDispatcher } from "../ports/push-sender/push-dispatcher";
import type { CallEndedReason } from "../protocol";
import type { ConversationDirectory } from "./messaging/conversation-directory";
import { idSchema as id } from "./payloads";
import { GatewayContext, GatewayFeature, GatewaySocket, userRoom } from "./types";

/** SDP offers and answers of audio/video calls are a few KB; 32 KB leaves room for many codecs and candidates. */
const MAX_SDP_CHARS = 32_768;
const sdp = z.string().min(1, "must not be empty").max(MAX_SDP_CHARS);
const media = z.enum(["audio", "video"]);

const initiateSchema = z
  .object({ conversationId: id.optional(), calleeIds: z.array(id).min(1).max(100).optional(), media, sdpOffer: sdp })
  .refine((p) => (p.conversationId === undefined) !== (p.calleeIds === undefined), {
    message: "exactly one of conversationId or calleeIds is required",
    path: ["conversationId"],
  });
const answerSchema = z.object({ callId: id, sdpAnswer: sdp });
const callRefSchema = z.object({ callId: id });
const iceSchema = z.object({
  callId: id,
  candidate: z.object({
    candidate: z.string().max(2_048),
    sdpMid: z.string().max(64).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  }),
});

export interface CallSignalingPorts {
  calls: CallStatePort;
  store: MessageStore;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
  blocks: BlockChecks;
  online: OnlineDirectory;
  push: PushDispatcher;
}

/**
 * WebRTC call signaling, relay only (media and TURN are the clients' business): `call_initiate` rings every
 * device of the callees (`call_incoming`, a push to those with no live connection), `call_answer` connects the
 * caller's device with the one answering device (the callee's other devices and the other callees stop
 * ringing), `call_reject`, `call_end`, and `call_ice_candidate` relayed only between those two devices. The
 * state machine (ringing → active → ended, one call per user, busy) lives in the CallState port (Redis, so
 * caller and callee may be on different instances); every event goes through user or socket rooms, which the
 * Redis adapter relays. Timers (ringing timeout, disconnect grace) run on the instance that started them; the
 * state's own TTLs free the lines if that instance dies.
 */
export function callSignalingFeature(ports: CallSignalingPorts) {
  return (ctx: GatewayContext): GatewayFeature => new CallSignaling(ctx, ports, ports.conversations(ctx)).feature();
}

class CallSignaling {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ttls: CallTtls;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ports: CallSignalingPorts,
    private readonly conversations: ConversationDirectory,
  ) {
    const { callRingTimeoutMs, callMaxDurationMs, callDisconnectGraceMs } = ctx.config;
    this.ttls = { ringingMs: callRingTimeoutMs + callDisconnectGraceMs + 5_000, activeMs: callMaxDurationMs, endedMs: 60_000 };
    this.defineCalls();
  }

  private defineCalls(): void {
    const { calls } = this.ctx;
    calls.define("call_initiate", { schema: initiateSchema, userAction: true, handle: (p, socket) => this.initiate(socket, p) });
    calls.define("call_answer", { schema: answerSchema, userAction: true, handle: (p, socket) => this.answer(socket, p.callId, p.sdpAnswer) });
    calls.define("call_reject", { schema: callRefSchema, userAction: true, handle: (p, socket) => this.reject(socket, p.callId) });
    calls.define("call_end", { schema: callRefSchema, userAction: true, handle: (p, socket) => this.hangUp(socket, p.callId) });
    calls.define("call_ice_candidate", { schema: iceSchema, handle: (p, socket) => this.relayIce(socket, p.callId, p.candidate) });
  }

  feature(): GatewayFeature {
    return {
      name: "call-signaling",
      onConnection: (socket) => this.onConnection(socket),
      onDisconnect: (socket) => this.onDisconnect(socket),
      stop: async () => {
        for (const timer of this.timers.values()) clearTimeout(timer);
        this.timers.clear();
      },
    };
  }

  private onConnection(socket: GatewaySocket): Promise<void> {
    return this.resume(socket).catch((error) => this.ctx.logger.warn("call resume failed", { uid: socket.data.uid, error: String(error) }));
  }

  // --- initiate ---------------------------------------------------------------------------------

  private async initiate(socket: GatewaySocket, p: z.output<typeof initiateSchema>) {
    const uid = socket.data.uid;
    const { calleeIds, conversationId } = p.conversationId
      ? await this.calleesOfConversation(uid, p.conversationId)
      : await this.calleesByIds(uid, p.calleeIds!);
    const callId = randomUUID();
    const created = await this.state(() =>
      this.ports.calls.create({ id: callId, callerId: uid, callerSocket: socket.id, conversationId, media: p.media, calleeIds, createdAt: this.ctx.clock.now() }, this.ttls),
    );
    if (!created.created && created.reason === "caller_busy") {
      throw new GatewayError("PERMISSION_DENIED", "You are already in a call: end it (call_end) before starting another.");
    }
    if (!created.created) {
      setImmediate(() => socket.emit("call_ended", { callId, reason: "busy", by: null }));
      return { callId, state: "ended" as const, calleeIds: [], busy: created.busy };
    }
    const call = created.call;
    for (const callee of call.calleeIds) {
      this.ctx.io.to(userRoom(callee)).emit("call_incoming", { callId, callerId: uid, conversationId, media: p.media, sdpOffer: p.sdpOffer, calleeIds: call.calleeIds });
    }
    this.startTimer(callId, this.ctx.config.callRingTimeoutMs, () => this.ringOut(callId));
    void this.pushToOffline(call);
    return { callId, state: "ringing" as const, calleeIds: call.calleeIds, busy: created.busy };
  }

  /** The other members of a conversation the caller is in; a direct one refuses a block, a group leaves blocked members out. */
  private async calleesOfConversation(uid: string, conversationId: string) {
    const conversation = await this.conversations.requireMember(conversationId, uid);
    const others = conversation.members.filter((m) => m !== uid);
    if (conversation.type === "direct") {
      await requireNoBlockBetween(this.ports.blocks, uid, others[0]);
      return { calleeIds: others, conversationId };
    }
    const blocked = await Promise.all(others.map((m) => this.ports.blocks.eitherBlocked(uid, m)));
    const calleeIds = this.bounded(others.filter((_, i) => !blocked[i]));
    if (calleeIds.length === 0) throw new GatewayError("PERMISSION_DENIED", "Nobody in this conversation can be called.");
    return { calleeIds, conversationId };
  }

  /** Users the caller shares a conversation with and no block stands between; PERMISSION_DENIED otherwise. */
  private async calleesByIds(uid: string, ids: string[]) {
    const calleeIds = this.bounded([...new Set(ids)]);
    if (calleeIds.includes(uid)) throw new GatewayError("INVALID_ARGUMENT", "calleeIds: you cannot call yourself.");
    const shared = await this.sharedWith(uid, calleeIds);
    const strangers = calleeIds.filter((c) => !shared.has(c));
    if (strangers.length > 0) throw new GatewayError("PERMISSION_DENIED", `You share no conversation with ${strangers.slice(0, 10).join(", ")}.`);
    for (const callee of calleeIds) await requireNoBlockBetween(this.ports.blocks, uid, callee);
    const direct = calleeIds.length === 1 ? directConversationId(uid, calleeIds[0]) : null;
    const conversationId = direct && (await this.conversations.get(direct)) ? direct : null;
    return { calleeIds, conversationId };
  }

  private bounded(calleeIds: string[]): string[] {
    const max = this.ctx.config.callMaxCallees;
    if (calleeIds.length > max) throw new GatewayError("INVALID_ARGUMENT", `calleeIds: at most ${max} people per call (got ${calleeIds.length}).`);
    return calleeIds;
  }

  /** The callees sharing a conversation with `uid`: direct conversations first (cached), the caller's conversations only if needed. */
  private async sharedWith(uid: string, calleeIds: string[]): Promise<Set<string>> {
    const direct = await Promise.all(calleeIds.map((c) => this.conversations.get(directConversationId(uid, c)).catch(() => undefined)));
    const shared = new Set(calleeIds.filter((_, i) => direct[i]?.members.includes(uid)));
    if (shared.size === calleeIds.length) return shared;
    const mine: Conversation[] = await this.ports.store.conversationsOf(uid).catch(() => {
      throw new GatewayError("UNAVAILABLE", "Your conversations could not be read; retry later.");
    });
    for (const conversation of mine) for (const member of conversation.members) if (calleeIds.includes(member)) shared.add(member);
    return shared;
  }

  private async pushToOffline(call: CallRecord): Promise<void> {
    await this.ports.push.notify(await this.offlineCallees(call), {
      title: call.media === "video" ? "Incoming video call" : "Incoming call",
      body: "Open TALOWA to answer",
      data: { kind: "call", callId: call.id, callerId: call.callerId, media: call.media, ...(call.conversationId ? { conversationId: call.conversationId } : {}) },
      collapseKey: `call:${call.id}`,
      priority: "high",
    });
  }

  /** A call that stopped ringing replaces the incoming-call push on offline callees' devices (same collapse key). */
  private async pushRingingStopped(call: CallRecord): Promise<void> {
    const missed = call.endedReason === "missed";
    await this.ports.push.notify(await this.offlineCallees(call), {
      title: missed ? (call.media === "video" ? "Missed video call" : "Missed call") : "Call ended",
      body: missed ? "You missed a call." : "The caller hung up.",
      data: { kind: "call_ended", callId: call.id, callerId: call.callerId, reason: call.endedReason ?? "ended" },
      collapseKey: `call:${call.id}`,
      priority: "high",
    });
  }

  private async offlineCallees(call: CallRecord): Promise<string[]> {
    const online = await this.ports.online.onlineUsers(call.calleeIds).catch(() => new Set<string>(call.calleeIds));
    return call.calleeIds.filter((u) => !online.has(u));
  }

  // --- answer, reject, end ----------------------------------------------------------------------

  private async answer(socket: GatewaySocket, callId: string, sdpAnswer: string) {
    const uid = socket.data.uid;
    const result = await this.state(() => this.ports.calls.answer(callId, uid, socket.id, this.ctx.clock.now(), this.ttls));
    if (!result.answered) throw this.notAnswerable(result.call, uid);
    const call = result.call;
    this.stopTimer(callId);
    this.ctx.io.to(call.callerSocket).emit("call_answered", { callId, by: uid, sdpAnswer });
    const ended = { callId, reason: "answered_elsewhere" as const, by: uid };
    this.ctx.io.to(userRoom(uid)).except(socket.id).emit("call_ended", ended);
    for (const other of call.calleeIds) if (other !== uid) this.ctx.io.to(userRoom(other)).emit("call_ended", ended);
    return { callId };
  }

  private notAnswerable(call: CallRecord | undefined, uid: string): GatewayError {
    if (!call || !call.calleeIds.includes(uid)) return new GatewayError("NOT_FOUND", "No such call ringing for you.");
    if (call.state === "active") return new GatewayError("PERMISSION_DENIED", "This call was already answered.");
    return new GatewayError("NOT_FOUND", `This call has ended (${call.endedReason ?? "ended"}).`);
  }

  private async reject(socket: GatewaySocket, callId: string) {
    const uid = socket.data.uid;
    const result = await this.state(() => this.ports.calls.reject(callId, uid, this.ctx.clock.now(), this.ttls));
    if (!result.rejected) throw new GatewayError("NOT_FOUND", "No such call ringing for you.");
    this.ctx.io.to(userRoom(uid)).emit("call_ended", { callId, reason: "rejected", by: uid });
    if (result.ended && result.call) {
      this.stopTimer(callId);
      this.announceEnd(result.call, "ringing");
    }
    return { callId };
  }

  private async hangUp(socket: GatewaySocket, callId: string, attempt = 1): Promise<{ callId: string }> {
    const uid = socket.data.uid;
    const call = await this.state(() => this.ports.calls.get(callId));
    if (!call || call.state === "ended" || !isParty(call, uid)) throw new GatewayError("NOT_FOUND", "No such call of yours in progress.");
    if (call.state === "ringing" && uid !== call.callerId) return this.reject(socket, callId);
    const reason: CallEndReason = call.state === "ringing" ? "cancelled" : "ended";
    // The state moved between the read and the end (answered as the caller cancelled): decide again, once.
    if (!(await this.finish(callId, reason, uid, [call.state])) && attempt === 1) return this.hangUp(socket, callId, 2);
    return { callId };
  }

  /** Ends the call if it is still in one of `from`; the one instance that ended it tells every device. */
  private async finish(callId: string, reason: CallEndReason, by: string | null, from: CallPhase[], ifGone?: GoneParty): Promise<CallRecord | undefined> {
    const ended = await this.state(() => this.ports.calls.end(callId, reason, by, from, this.ctx.clock.now(), this.ttls, ifGone));
    if (ended) {
      this.stopTimer(callId);
      this.announceEnd(ended, ended.answeredBy ? "active" : "ringing");
      if (!ended.answeredBy) void this.pushRingingStopped(ended);
    }
    return ended;
  }

  /** `call_ended` to the caller's device and, while ringing, to every device of every callee; once active, to the answering device. */
  private announceEnd(call: CallRecord, phase: "ringing" | "active"): void {
    const payload = { callId: call.id, reason: call.endedReason as CallEndedReason, by: call.endedBy };
    this.ctx.io.to(call.callerSocket).emit("call_ended", payload);
    if (phase === "active" && call.answeredSocket) this.ctx.io.to(call.answeredSocket).emit("call_ended", payload);
    else for (const callee of call.calleeIds) this.ctx.io.to(userRoom(callee)).emit("call_ended", payload);
  }

  private async ringOut(callId: string): Promise<void> {
    const ended = await this.finish(callId, "missed", null, ["ringing"]);
    if (!ended) return;
    const { callerId, conversationId, media, calleeIds } = ended;
    await this.ctx.hooks.emit("callMissed", { callId, callerId, conversationId, media, missedBy: calleeIds, at: this.ctx.clock.now() });
  }

  // --- ICE, disconnects -------------------------------------------------------------------------

  private async relayIce(socket: GatewaySocket, callId: string, candidate: z.output<typeof iceSchema>["candidate"]) {
    const uid = socket.data.uid;
    const call = await this.state(() => this.ports.calls.get(callId));
    if (!call || call.state === "ended" || partySocketOf(call, uid) !== socket.id) throw new GatewayError("NOT_FOUND", "No call in progress on this device.");
    if (call.state === "ringing") {
      throw new GatewayError("INVALID_ARGUMENT", "callId: the call is not answered yet; keep your candidates until call_answered.");
    }
    const peer = uid === call.callerId ? call.answeredSocket : call.callerSocket;
    if (peer) this.ctx.io.to(peer).emit("call_ice_candidate", { callId, from: uid, candidate });
    return { callId };
  }

  /**
   * A party device dropped out: a newer connection of the same user that was waiting (standby) takes over at
   * once; otherwise the call ends after the grace period unless a new connection takes its place.
   */
  private async onDisconnect(socket: GatewaySocket): Promise<void> {
    const uid = socket.data.uid;
    const callId = await this.ports.calls.lineOf(uid).catch(() => undefined);
    if (!callId) return;
    const result = await this.ports.calls.markGone(callId, uid, socket.id, this.ttls).catch(() => ({ outcome: "ignored" as const }));
    if (result.outcome === "taken_over") return this.announceResumed(result.call, uid, result.socketId);
    if (result.outcome !== "gone") return;
    const gone = { uid, socketId: socket.id };
    this.startTimer(`${callId}:${socket.id}`, this.ctx.config.callDisconnectGraceMs, () =>
      this.finish(callId, "disconnected", uid, ["ringing", "active"], gone).then(() => undefined),
    );
  }

  /**
   * A new connection of a user in a call: it takes the place of their party device if that one is gone, or
   * waits as standby in case the party device's drop was not noticed yet (a dead transport is only detected
   * after the ping timeout).
   */
  private async resume(socket: GatewaySocket): Promise<void> {
    const uid = socket.data.uid;
    const callId = await this.ports.calls.lineOf(uid);
    if (!callId) return;
    const call = await this.ports.calls.rebind(callId, uid, socket.id, this.ttls);
    if (call && call.state !== "ended") return this.announceResumed(call, uid, socket.id);
    if (!call) await this.ports.calls.standby(callId, uid, socket.id, this.ttls);
  }

  private announceResumed(call: CallRecord, uid: string, socketId: string): void {
    if (call.state === "ended") return;
    const peerId = uid === call.callerId ? call.answeredBy : call.callerId;
    this.ctx.io.to(socketId).emit("call_resumed", { callId: call.id, callerId: call.callerId, peerId, media: call.media, state: call.state });
  }

  // --- helpers ----------------------------------------------------------------------------------

  private startTimer(key: string, ms: number, run: () => Promise<void>): void {
    this.stopTimer(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      run().catch((error) => this.ctx.logger.warn("call timer failed", { key, error: String(error) }));
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  private stopTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** A call-state operation; a backend failure is UNAVAILABLE (retry), never a half-made call. */
  private async state<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      this.ctx.logger.warn("call state failed", { error: String(error) });
      throw new GatewayError("UNAVAILABLE", "Call signaling is unavailable right now; retry later.");
    }
  }
}

/** The caller, and while ringing every callee; once active only the callee who answered. */
function isParty(call: CallRecord, uid: string): boolean {
  if (uid === call.callerId) return true;
  return call.state === "active" ? uid === call.answeredBy : call.calleeIds.includes(uid);
}

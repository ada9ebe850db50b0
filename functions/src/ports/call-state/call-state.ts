/**
 * The call-state port: the signaling state machine of WebRTC calls, shared by every gateway instance
 * (Redis) or held by one process (memory). A call is `ringing` (its callees' devices ring), `active`
 * (one callee answered on one device) or `ended`. A user is in at most one call at a time (their "line");
 * a callee whose line is taken is `busy` and is not rung. Every transition is atomic and answers whether
 * it happened, so exactly one instance acts on it (emits `call_ended`, records a missed call).
 */
export type CallMedia = "audio" | "video";
export type CallPhase = "ringing" | "active" | "ended";
export type CallEndReason = "missed" | "rejected" | "ended" | "cancelled" | "disconnected" | "busy";

export interface CallRecord {
  id: string;
  callerId: string;
  /** The socket that placed the call: the caller's party device. */
  callerSocket: string;
  conversationId: string | null;
  media: CallMedia;
  /** Callees rung (busy ones are left out at creation; those who rejected are removed). */
  calleeIds: string[];
  state: CallPhase;
  createdAt: number;
  answeredBy: string | null;
  /** The callee's device that answered: the only callee socket signaling is relayed to. */
  answeredSocket: string | null;
  answeredAt: number | null;
  endedReason: CallEndReason | null;
  endedBy: string | null;
  /** Party uid → the party socket that disconnected and has not been replaced yet. */
  gone: Record<string, string>;
  /** Party uid → a newer socket of the party that takes over when the party socket disconnects. */
  standby: Record<string, string>;
}

export type NewCall = Pick<CallRecord, "id" | "callerId" | "callerSocket" | "conversationId" | "media" | "calleeIds" | "createdAt">;

export type CreateResult =
  | { created: true; call: CallRecord; busy: string[] }
  | { created: false; reason: "caller_busy" | "all_busy"; busy: string[] };

export type AnswerResult = { answered: true; call: CallRecord } | { answered: false; call: CallRecord | undefined };

export interface GoneParty {
  uid: string;
  socketId: string;
}

/** `rejected`: uid was a ringing callee and is now out of the call; `ended`: it was the last one. */
export interface RejectResult {
  rejected: boolean;
  ended: boolean;
  call: CallRecord | undefined;
}

export type GoneResult = { outcome: "ignored" } | { outcome: "gone" } | { outcome: "taken_over"; socketId: string; call: CallRecord };

export interface CallTtls {
  /** How long a ringing call lives if nobody ends it (the ring timeout plus a margin). */
  ringingMs: number;
  /** How long an active call's state lives without being touched (a crashed instance cannot hold lines forever). */
  activeMs: number;
  /** How long an ended call is remembered (late answers get "ended", not "no such call"). */
  endedMs: number;
}

export interface CallStatePort {
  /** Takes the lines of the caller and the free callees and stores the ringing call; busy callees are left out. */
  create(call: NewCall, ttls: CallTtls): Promise<CreateResult>;
  get(callId: string): Promise<CallRecord | undefined>;
  /** ringing → active by `uid` on `socketId` (first answer wins); frees the lines of the other callees. */
  answer(callId: string, uid: string, socketId: string, now: number, ttls: CallTtls): Promise<AnswerResult>;
  /** A ringing callee declines: removed from the call; the call ends (`rejected`) when no callee is left. */
  reject(callId: string, uid: string, now: number, ttls: CallTtls): Promise<RejectResult>;
  /**
   * → ended with `reason`, if the call is in one of `from` (missed: only a ringing call); frees every line.
   * Answers the ended record only to the one caller that ended it. With `ifGone`, only while that party socket
   * is still marked gone (the disconnect grace: a party that came back keeps the call).
   */
  end(callId: string, reason: CallEndReason, by: string | null, from: CallPhase[], now: number, ttls: CallTtls, ifGone?: GoneParty): Promise<CallRecord | undefined>;
  /**
   * A socket of `uid` disconnected. The party socket: taken over at once by the party's standby socket if it
   * has one (`taken_over`), else marked gone (the grace period starts). A standby socket: no longer standby.
   */
  markGone(callId: string, uid: string, socketId: string, ttls: CallTtls): Promise<GoneResult>;
  /** A new socket of `uid` takes over the party's place; answers the call when `uid` was gone from it. */
  rebind(callId: string, uid: string, socketId: string, ttls: CallTtls): Promise<CallRecord | undefined>;
  /**
   * A new socket of a party whose party socket still looks connected (its drop not noticed yet): it takes over
   * when that socket disconnects. Answers whether it was recorded (uid is a party of a call in progress).
   */
  standby(callId: string, uid: string, socketId: string, ttls: CallTtls): Promise<boolean>;
  /** The call `uid`'s line is taken by, if any. */
  lineOf(uid: string): Promise<string | undefined>;
}

/** The parties a signaling message may travel between: the caller's socket and the answering socket. */
export function partySocketOf(call: CallRecord, uid: string): string | null {
  if (uid === call.callerId) return call.callerSocket;
  if (uid === call.answeredBy) return call.answeredSocket;
  return null;
}

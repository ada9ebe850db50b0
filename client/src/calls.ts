import type { CallEndedReason, CallIncomingPayload, CallInitiatePayload, CallInitiateResult, CallMedia, IceCandidate } from "./generated/protocol.js";

/** A call as this device sees it (issue 15: signaling only; media and TURN are the app's). */
export interface CallInfo {
  callId: string;
  /** "caller": this device placed it; "callee": it rings (or rang) here. */
  role: "caller" | "callee";
  state: "ringing" | "active" | "ended";
  media: CallMedia;
  callerId: string;
  conversationId: string | null;
  /** Everyone rung by the call. */
  calleeIds: string[];
  /** The other party once the call is active (the callee who answered, or the caller). */
  peerId: string | null;
  /** The caller's offer (incoming calls). */
  sdpOffer?: string;
  endedReason?: CallEndedReason;
  endedBy?: string | null;
}

export type Call = <T extends object>(event: string, payload: unknown) => Promise<T>;

export interface CallsOptions {
  call: Call;
  /**
   * After a lost connection, how long a call this device is a party of waits for `call_resumed` on the next
   * connection before it is ended here (`disconnected`): the gateway's end goes to the socket that is gone.
   */
  resumeGraceMs: number;
  uid: () => string | undefined;
  /** Any change of a call's state (ringing, active, ended). */
  changed: (call: CallInfo) => void;
  incoming: (call: CallInfo) => void;
  answered: (call: CallInfo, sdpAnswer: string) => void;
  ended: (call: CallInfo) => void;
  /** A call to you stopped ringing with nobody answering it (a `missed_call` notification is stored too). */
  missed: (call: CallInfo) => void;
  candidate: (callId: string, candidate: IceCandidate, from: string) => void;
  resumed: (call: CallInfo) => void;
}

/** Ended calls remembered (so a late event for one is recognised and dropped). */
const ENDED_KEPT = 50;

/**
 * Call signaling on the client side: the calls' state from call_incoming / call_answered / call_ended /
 * call_resumed and the helpers' acks, and the protocol's ICE rule built in: candidates given while the call
 * still rings are kept and sent, in order, once it is answered (the gateway refuses them before that).
 */
export class Calls {
  private readonly calls = new Map<string, CallInfo>();
  private readonly pendingIce = new Map<string, IceCandidate[]>();
  private readonly flushing = new Set<string>();
  private readonly resumeTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly ended: string[] = [];

  constructor(private readonly options: CallsOptions) {}

  get current(): CallInfo[] {
    return [...this.calls.values()].map((c) => ({ ...c }));
  }

  get(callId: string): CallInfo | undefined {
    const call = this.calls.get(callId);
    return call ? { ...call } : undefined;
  }

  async start(payload: CallInitiatePayload): Promise<CallInitiateResult> {
    const result = await this.options.call<CallInitiateResult>("call_initiate", payload);
    if (result.state === "ended") return result; // every callee busy: call_ended { reason: "busy" } follows
    const call: CallInfo = {
      callId: result.callId,
      role: "caller",
      state: "ringing",
      media: payload.media,
      callerId: this.options.uid() ?? "",
      conversationId: payload.conversationId ?? null,
      calleeIds: result.calleeIds,
      peerId: null,
    };
    if (!this.ended.includes(call.callId)) this.set(call);
    return result;
  }

  async answer(callId: string, sdpAnswer: string): Promise<void> {
    await this.options.call("call_answer", { callId, sdpAnswer });
    const call = this.calls.get(callId);
    if (!call) return;
    this.set({ ...call, state: "active", peerId: call.callerId });
    // A candidate refused now means the call ended meanwhile: call_ended tells the app.
    await this.flushIce(callId).catch(() => undefined);
  }

  async reject(callId: string): Promise<void> {
    await this.options.call("call_reject", { callId });
    this.end(callId, "rejected", this.options.uid() ?? null);
  }

  async hangUp(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    await this.options.call("call_end", { callId });
    const reason = call?.state === "ringing" ? (call.role === "caller" ? "cancelled" : "rejected") : "ended";
    this.end(callId, reason, this.options.uid() ?? null);
  }

  /** Sends an ICE candidate of this device, or keeps it until the call is answered. */
  async candidate(callId: string, candidate: IceCandidate): Promise<void> {
    if (this.calls.get(callId)?.state === "ringing" || this.flushing.has(callId)) {
      this.pendingIce.set(callId, [...(this.pendingIce.get(callId) ?? []), candidate]);
      return;
    }
    await this.options.call("call_ice_candidate", { callId, candidate });
  }

  // --- server events -------------------------------------------------------------------------

  incoming(payload: CallIncomingPayload): void {
    if (this.ended.includes(payload.callId) || this.calls.has(payload.callId)) return;
    const call: CallInfo = { ...payload, role: "callee", state: "ringing", peerId: null };
    this.set(call);
    this.options.incoming({ ...call });
  }

  answeredByPeer(payload: { callId: string; by: string; sdpAnswer: string }): void {
    const call = this.calls.get(payload.callId);
    if (!call) return;
    this.set({ ...call, state: "active", peerId: payload.by });
    this.options.answered({ ...this.calls.get(payload.callId)! }, payload.sdpAnswer);
    void this.flushIce(payload.callId).catch(() => undefined);
  }

  endedByServer(payload: { callId: string; reason: CallEndedReason; by: string | null }): void {
    this.end(payload.callId, payload.reason, payload.by);
  }

  candidateFromPeer(payload: { callId: string; from: string; candidate: IceCandidate }): void {
    if (this.calls.has(payload.callId)) this.options.candidate(payload.callId, payload.candidate, payload.from);
  }

  resumed(payload: { callId: string; callerId: string; peerId: string | null; media: CallMedia; state: "ringing" | "active" }): void {
    this.stopResumeTimer(payload.callId);
    const known = this.calls.get(payload.callId);
    const role = payload.callerId === this.options.uid() ? "caller" : "callee";
    const call: CallInfo = { conversationId: null, calleeIds: [], ...known, callId: payload.callId, role, state: payload.state, media: payload.media, callerId: payload.callerId, peerId: payload.peerId };
    this.set(call);
    this.options.resumed({ ...call });
  }

  /** The connection was lost: calls tied to this device's socket end here unless resumed in time. */
  connectionLost(): void {
    for (const call of this.calls.values()) {
      if (call.role === "callee" && call.state === "ringing") continue; // its end reaches every device of yours
      if (this.resumeTimers.has(call.callId)) continue;
      this.resumeTimers.set(call.callId, setTimeout(() => this.end(call.callId, "disconnected", this.options.uid() ?? null), this.options.resumeGraceMs));
    }
  }

  close(): void {
    for (const timer of this.resumeTimers.values()) clearTimeout(timer);
    this.resumeTimers.clear();
  }

  // --- inside --------------------------------------------------------------------------------

  private end(callId: string, reason: CallEndedReason, by: string | null): void {
    const call = this.calls.get(callId);
    this.pendingIce.delete(callId);
    this.stopResumeTimer(callId);
    if (!call) return;
    this.calls.delete(callId);
    this.ended.push(callId);
    if (this.ended.length > ENDED_KEPT) this.ended.shift();
    const over: CallInfo = { ...call, state: "ended", endedReason: reason, endedBy: by };
    this.options.changed({ ...over });
    this.options.ended({ ...over });
    if (reason === "missed" && call.role === "callee") this.options.missed({ ...over });
  }

  /** The kept candidates, in order; those given meanwhile join the queue. */
  private async flushIce(callId: string): Promise<void> {
    if (this.flushing.has(callId)) return;
    this.flushing.add(callId);
    try {
      for (let next = this.pendingIce.get(callId)?.shift(); next; next = this.pendingIce.get(callId)?.shift()) {
        await this.options.call("call_ice_candidate", { callId, candidate: next });
      }
    } finally {
      this.flushing.delete(callId);
      this.pendingIce.delete(callId);
    }
  }

  private stopResumeTimer(callId: string): void {
    clearTimeout(this.resumeTimers.get(callId));
    this.resumeTimers.delete(callId);
  }

  private set(call: CallInfo): void {
    this.calls.set(call.callId, call);
    this.options.changed({ ...call });
  }
}

import type { AnswerResult, CallEndReason, CallPhase, CallRecord, CallStatePort, CallTtls, CreateResult, GoneParty, GoneResult, NewCall, RejectResult } from "./call-state";
import { partySocketOf } from "./call-state";

/** The call state of one process (single-host runs, no Redis); same transitions as the Redis adapter. TTLs are not enforced. */
export class MemoryCallState implements CallStatePort {
  private readonly calls = new Map<string, CallRecord>();
  private readonly lines = new Map<string, string>();

  async create(call: NewCall, _ttls: CallTtls): Promise<CreateResult> {
    if (this.lineTaken(call.callerId)) return { created: false, reason: "caller_busy", busy: [] };
    const busy = call.calleeIds.filter((u) => this.lineTaken(u));
    const free = call.calleeIds.filter((u) => !busy.includes(u));
    if (free.length === 0) return { created: false, reason: "all_busy", busy };
    const record: CallRecord = { ...call, calleeIds: free, state: "ringing", answeredBy: null, answeredSocket: null, answeredAt: null, endedReason: null, endedBy: null, gone: {}, standby: {} };
    this.calls.set(call.id, record);
    for (const uid of [call.callerId, ...free]) this.lines.set(uid, call.id);
    return { created: true, call: copy(record), busy };
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    const call = this.calls.get(callId);
    return call && copy(call);
  }

  async answer(callId: string, uid: string, socketId: string, now: number): Promise<AnswerResult> {
    const call = this.calls.get(callId);
    if (!call || call.state !== "ringing" || !call.calleeIds.includes(uid)) return { answered: false, call: call && copy(call) };
    Object.assign(call, { state: "active", answeredBy: uid, answeredSocket: socketId, answeredAt: now });
    for (const other of call.calleeIds) if (other !== uid) this.freeLine(other, callId);
    return { answered: true, call: copy(call) };
  }

  async reject(callId: string, uid: string, now: number, ttls: CallTtls): Promise<RejectResult> {
    const call = this.calls.get(callId);
    if (!call || call.state !== "ringing" || !call.calleeIds.includes(uid)) return { rejected: false, call: call && copy(call), ended: false };
    call.calleeIds = call.calleeIds.filter((u) => u !== uid);
    this.freeLine(uid, callId);
    if (call.calleeIds.length > 0) return { rejected: true, call: copy(call), ended: false };
    const ended = await this.end(callId, "rejected", uid, ["ringing"], now, ttls);
    return { rejected: true, call: ended, ended: ended !== undefined };
  }

  async end(callId: string, reason: CallEndReason, by: string | null, from: CallPhase[], _now: number, ttls: CallTtls, ifGone?: GoneParty): Promise<CallRecord | undefined> {
    const call = this.calls.get(callId);
    if (!call || !from.includes(call.state)) return undefined;
    if (ifGone && call.gone[ifGone.uid] !== ifGone.socketId) return undefined;
    Object.assign(call, { state: "ended", endedReason: reason, endedBy: by });
    for (const uid of [call.callerId, ...call.calleeIds]) this.freeLine(uid, callId);
    setTimeout(() => this.calls.delete(callId), ttls.endedMs).unref();
    return copy(call);
  }

  async markGone(callId: string, uid: string, socketId: string): Promise<GoneResult> {
    const call = this.calls.get(callId);
    if (!call || call.state === "ended") return { outcome: "ignored" };
    if (partySocketOf(call, uid) !== socketId) {
      if (call.standby[uid] === socketId) delete call.standby[uid];
      return { outcome: "ignored" };
    }
    const next = call.standby[uid];
    if (next) {
      delete call.standby[uid];
      setPartySocket(call, uid, next);
      return { outcome: "taken_over", socketId: next, call: copy(call) };
    }
    call.gone[uid] = socketId;
    return { outcome: "gone" };
  }

  async standby(callId: string, uid: string, socketId: string): Promise<boolean> {
    const call = this.calls.get(callId);
    const party = call && call.state !== "ended" ? partySocketOf(call, uid) : null;
    if (!call || !party || party === socketId) return false;
    call.standby[uid] = socketId;
    return true;
  }

  async rebind(callId: string, uid: string, socketId: string): Promise<CallRecord | undefined> {
    const call = this.calls.get(callId);
    if (!call || call.state === "ended" || !call.gone[uid]) return undefined;
    delete call.gone[uid];
    setPartySocket(call, uid, socketId);
    return copy(call);
  }

  async lineOf(uid: string): Promise<string | undefined> {
    return this.lines.get(uid);
  }

  private lineTaken(uid: string): boolean {
    const callId = this.lines.get(uid);
    return callId !== undefined && this.calls.get(callId)?.state !== "ended";
  }

  private freeLine(uid: string, callId: string): void {
    if (this.lines.get(uid) === callId) this.lines.delete(uid);
  }
}

function copy(call: CallRecord): CallRecord {
  return { ...call, calleeIds: [...call.calleeIds], gone: { ...call.gone }, standby: { ...call.standby } };
}

function setPartySocket(call: CallRecord, uid: string, socketId: string): void {
  if (uid === call.callerId) call.callerSocket = socketId;
  else if (uid === call.answeredBy) call.answeredSocket = socketId;
}

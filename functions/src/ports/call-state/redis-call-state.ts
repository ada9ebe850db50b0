import type Redis from "ioredis";
import type { AnswerResult, CallEndReason, CallPhase, CallRecord, CallStatePort, CallTtls, CreateResult, GoneParty, GoneResult, NewCall, RejectResult } from "./call-state";

// Every script takes KEYS[1] = the call's key and ARGV[1] = the prefix of line keys (`<prefix><uid>` holds the
// call id a user is in). Line keys are derived inside the scripts, so this adapter needs one Redis node (not
// Redis Cluster), like the presence store. Records are JSON (cjson); SET ... KEEPTTL keeps a record's expiry.
const HELPERS = `
local function contains(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end
local function freeLine(prefix, uid, callId)
  local key = prefix .. uid
  if redis.call('GET', key) == callId then redis.call('DEL', key) end
end
local function endCall(call, prefix, reason, by, endedMs, key)
  call.state = 'ended'; call.endedReason = reason
  if by == '' then call.endedBy = cjson.null else call.endedBy = by end
  freeLine(prefix, call.callerId, call.id)
  for _, uid in ipairs(call.calleeIds) do freeLine(prefix, uid, call.id) end
  local out = cjson.encode(call)
  redis.call('SET', key, out, 'PX', endedMs)
  return out
end
`;

// ARGV: prefix, record JSON, ringingMs. Answers { 0 | -1 caller busy | -2 all busy, record or '', busy uid ... }.
const CREATE = `${HELPERS}
local prefix, call, ttl = ARGV[1], cjson.decode(ARGV[2]), ARGV[3]
if redis.call('EXISTS', prefix .. call.callerId) == 1 then return { -1, '' } end
local free, busy = {}, {}
for _, uid in ipairs(call.calleeIds) do
  if redis.call('EXISTS', prefix .. uid) == 1 then table.insert(busy, uid) else table.insert(free, uid) end
end
if #free == 0 then return { -2, '', unpack(busy) } end
call.calleeIds = free
redis.call('SET', prefix .. call.callerId, call.id, 'PX', ttl)
for _, uid in ipairs(free) do redis.call('SET', prefix .. uid, call.id, 'PX', ttl) end
local out = cjson.encode(call)
redis.call('SET', KEYS[1], out, 'PX', ttl)
return { 0, out, unpack(busy) }
`;

// ARGV: prefix, uid, socketId, now, activeMs. Answers { 1 answered | 0 not, record } or nil.
const ANSWER = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local prefix, uid, call = ARGV[1], ARGV[2], cjson.decode(raw)
if call.state ~= 'ringing' or not contains(call.calleeIds, uid) then return { 0, raw } end
call.state = 'active'; call.answeredBy = uid; call.answeredSocket = ARGV[3]; call.answeredAt = tonumber(ARGV[4])
for _, other in ipairs(call.calleeIds) do if other ~= uid then freeLine(prefix, other, call.id) end end
redis.call('PEXPIRE', prefix .. call.callerId, ARGV[5])
redis.call('PEXPIRE', prefix .. uid, ARGV[5])
local out = cjson.encode(call)
redis.call('SET', KEYS[1], out, 'PX', ARGV[5])
return { 1, out }
`;

// ARGV: prefix, uid, endedMs. Answers { 1 ended | 0 still ringing others | -1 not a ringing callee, record } or nil.
const REJECT = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local prefix, uid, call = ARGV[1], ARGV[2], cjson.decode(raw)
if call.state ~= 'ringing' or not contains(call.calleeIds, uid) then return { -1, raw } end
local left = {}
for _, other in ipairs(call.calleeIds) do if other ~= uid then table.insert(left, other) end end
freeLine(prefix, uid, call.id)
call.calleeIds = left
if #left == 0 then return { 1, endCall(call, prefix, 'rejected', uid, ARGV[3], KEYS[1]) } end
local out = cjson.encode(call)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return { 0, out }
`;

// ARGV: prefix, reason, by ('' = nobody), allowed states (comma separated), endedMs, [gone uid, gone socket].
// Answers the ended record or nil.
const END = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local call = cjson.decode(raw)
if not string.find(',' .. ARGV[4] .. ',', ',' .. call.state .. ',', 1, true) then return false end
if ARGV[6] and (type(call.gone) ~= 'table' or call.gone[ARGV[6]] ~= ARGV[7]) then return false end
return endCall(call, ARGV[1], ARGV[2], ARGV[3], ARGV[5], KEYS[1])
`;

const PARTY = `
local function tableOf(value) if type(value) == 'table' then return value end return {} end
local function partySocket(call, uid)
  if uid == call.callerId then return call.callerSocket end
  if uid == call.answeredBy then return call.answeredSocket end
  return nil
end
local function setPartySocket(call, uid, socketId)
  if uid == call.callerId then call.callerSocket = socketId elseif uid == call.answeredBy then call.answeredSocket = socketId end
end
`;

// ARGV: prefix, uid, socketId. Answers { 0 ignored } | { 1 gone } | { 2 taken over, record, standby socket }.
const MARK_GONE = `${PARTY}
local raw = redis.call('GET', KEYS[1])
if not raw then return { 0 } end
local uid, socketId, call = ARGV[2], ARGV[3], cjson.decode(raw)
if call.state == 'ended' then return { 0 } end
call.gone = tableOf(call.gone); call.standby = tableOf(call.standby)
if partySocket(call, uid) ~= socketId then
  if call.standby[uid] == socketId then
    call.standby[uid] = nil
    redis.call('SET', KEYS[1], cjson.encode(call), 'KEEPTTL')
  end
  return { 0 }
end
local nextSocket = call.standby[uid]
if nextSocket then
  call.standby[uid] = nil
  setPartySocket(call, uid, nextSocket)
  local out = cjson.encode(call)
  redis.call('SET', KEYS[1], out, 'KEEPTTL')
  return { 2, out, nextSocket }
end
call.gone[uid] = socketId
redis.call('SET', KEYS[1], cjson.encode(call), 'KEEPTTL')
return { 1 }
`;

// ARGV: prefix, uid, socketId. Answers 1 when socketId is now the party's standby.
const STANDBY = `${PARTY}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local uid, socketId, call = ARGV[2], ARGV[3], cjson.decode(raw)
if call.state == 'ended' then return 0 end
local party = partySocket(call, uid)
if party == nil or party == socketId then return 0 end
call.standby = tableOf(call.standby)
call.standby[uid] = socketId
redis.call('SET', KEYS[1], cjson.encode(call), 'KEEPTTL')
return 1
`;

// ARGV: prefix, uid, socketId. Answers the record when the gone party was replaced by socketId, else nil.
const REBIND = `${PARTY}
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local uid, socketId, call = ARGV[2], ARGV[3], cjson.decode(raw)
if call.state == 'ended' or type(call.gone) ~= 'table' or call.gone[uid] == nil then return false end
call.gone[uid] = nil
setPartySocket(call, uid, socketId)
local out = cjson.encode(call)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return out
`;

const SCRIPTS = { talowaCallCreate: CREATE, talowaCallAnswer: ANSWER, talowaCallReject: REJECT, talowaCallEnd: END, talowaCallGone: MARK_GONE, talowaCallRebind: REBIND, talowaCallStandby: STANDBY };
type Script = (key: string, ...args: Array<string | number>) => Promise<unknown>;
type WithScripts = Redis & { [K in keyof typeof SCRIPTS]: Script };

/** Calls in Redis, shared by every instance: each transition one Lua script (atomic), each key with a TTL. */
export class RedisCallState implements CallStatePort {
  private readonly redis: WithScripts;

  constructor(
    redis: Redis,
    private readonly prefix = "talowa:call:",
    /** Apart from the calls' prefix, so no call id can name a line key. */
    private readonly linePrefix = "talowa:call-line:",
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys: 1 });
    this.redis = redis as WithScripts;
  }

  private key(callId: string): string {
    return `${this.prefix}${callId}`;
  }

  private get lines(): string {
    return this.linePrefix;
  }

  async create(call: NewCall, ttls: CallTtls): Promise<CreateResult> {
    const record: CallRecord = { ...call, state: "ringing", answeredBy: null, answeredSocket: null, answeredAt: null, endedReason: null, endedBy: null, gone: {}, standby: {} };
    const [status, raw, ...busy] = (await this.redis.talowaCallCreate(this.key(call.id), this.lines, JSON.stringify(record), ttls.ringingMs)) as [number, string, ...string[]];
    if (status === -1) return { created: false, reason: "caller_busy", busy: [] };
    if (status === -2) return { created: false, reason: "all_busy", busy };
    return { created: true, call: parse(raw), busy };
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    const raw = await this.redis.get(this.key(callId));
    return raw ? parse(raw) : undefined;
  }

  async answer(callId: string, uid: string, socketId: string, now: number, ttls: CallTtls): Promise<AnswerResult> {
    const answer = (await this.redis.talowaCallAnswer(this.key(callId), this.lines, uid, socketId, now, ttls.activeMs)) as [number, string] | null;
    if (!answer) return { answered: false, call: undefined };
    return { answered: answer[0] === 1, call: parse(answer[1]) };
  }

  async reject(callId: string, uid: string, _now: number, ttls: CallTtls): Promise<RejectResult> {
    const answer = (await this.redis.talowaCallReject(this.key(callId), this.lines, uid, ttls.endedMs)) as [number, string] | null;
    if (!answer) return { rejected: false, call: undefined, ended: false };
    return { rejected: answer[0] >= 0, call: parse(answer[1]), ended: answer[0] === 1 };
  }

  async end(callId: string, reason: CallEndReason, by: string | null, from: CallPhase[], _now: number, ttls: CallTtls, ifGone?: GoneParty): Promise<CallRecord | undefined> {
    const args: Array<string | number> = [this.lines, reason, by ?? "", from.join(","), ttls.endedMs, ...(ifGone ? [ifGone.uid, ifGone.socketId] : [])];
    const raw = (await this.redis.talowaCallEnd(this.key(callId), ...args)) as string | null;
    return raw ? parse(raw) : undefined;
  }

  async markGone(callId: string, uid: string, socketId: string): Promise<GoneResult> {
    const [status, raw, next] = (await this.redis.talowaCallGone(this.key(callId), this.lines, uid, socketId)) as [number, string?, string?];
    if (status === 2) return { outcome: "taken_over", socketId: next!, call: parse(raw!) };
    return status === 1 ? { outcome: "gone" } : { outcome: "ignored" };
  }

  async standby(callId: string, uid: string, socketId: string): Promise<boolean> {
    return (await this.redis.talowaCallStandby(this.key(callId), this.lines, uid, socketId)) === 1;
  }

  async rebind(callId: string, uid: string, socketId: string): Promise<CallRecord | undefined> {
    const raw = (await this.redis.talowaCallRebind(this.key(callId), this.lines, uid, socketId)) as string | null;
    return raw ? parse(raw) : undefined;
  }

  async lineOf(uid: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.lines}${uid}`)) ?? undefined;
  }
}

/** cjson writes an empty Lua table as `{}`: lists and maps come back normalised. */
function parse(raw: string): CallRecord {
  const call = JSON.parse(raw) as CallRecord;
  const map = (value: unknown) => (value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, string>) : {});
  return { ...call, calleeIds: Array.isArray(call.calleeIds) ? call.calleeIds : [], gone: map(call.gone), standby: map(call.standby) };
}

import { LRUCache } from "lru-cache";
import type { z } from "zod";
import { GatewayError, type ErrorCode } from "../errors";
import type { Clock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import { RateLimiter, RateRule, requireWithinLimit } from "../ports/rate-limiter";
import type { GatewayHooks } from "./hooks";
import type { GatewayMetrics } from "./metrics";
import { guardPayload } from "./payload-guard";
import { parsePayload } from "./payloads";
import type { GatewaySocket } from "./socket";

/** How one client → server call is checked and answered. */
export interface CallSpec<S extends z.ZodType> {
  /** Validates the payload; the handler gets the parsed value (INVALID_ARGUMENT names the first bad field). */
  schema: S;
  /**
   * The rule of `config.rateLimits` the call consumes, by name or from the payload (send_message: by
   * message type). Default: the event's own name (every call has a budget, issue 12). A name without a
   * rule in the config is not limited.
   */
  rateLimit?: string | ((payload: z.output<S>) => string);
  /** The call means a person is using the app: emits the `userAction` hook once its checks passed. */
  userAction?: boolean;
  handle(payload: z.output<S>, socket: GatewaySocket): Promise<object | void> | object | void;
}

export interface CallRegistryDeps {
  logger: Logger;
  clock: Clock;
  rateLimiter: RateLimiter;
  rateLimits: Record<string, RateRule>;
  hooks: GatewayHooks;
  metrics: GatewayMetrics;
  /** Refusals (RATE_LIMITED, INVALID_ARGUMENT, PAYLOAD_TOO_LARGE, unknown events) a socket may collect per minute before it is disconnected as a flood; 0: never. */
  maxRefusedCallsPerMinute: number;
}

const REFUSAL_WINDOW_MS = 60_000;
/** Answers a client following the protocol does not collect by the hundred: told to wait, or sent what no call accepts. */
const FLOOD_CODES = new Set<ErrorCode>(["RATE_LIMITED", "INVALID_ARGUMENT", "PAYLOAD_TOO_LARGE"]);
/** Per socket: RATE_LIMITED answers in the current minute (a WeakMap: nothing to clean up when the socket goes). */
const refusals = new WeakMap<GatewaySocket, { since: number; count: number }>();

type Ack = (response: unknown) => void;
/** Unknown events are logged at most once per connection in this interval. */
const UNKNOWN_EVENT_LOG_MS = 60_000;

/**
 * The one way features register client calls. Each call is parsed, rate-limited, run, and answered
 * through its acknowledgement with `{ ok: true, ...result }` or `{ ok: false, error }` (a call sent
 * without an ack gets its error as an `error` event). Errors never escape: a bad request cannot crash
 * the process or touch other sockets. Every answer is counted by event and code.
 */
export class CallRegistry {
  /**
   * Budgets known to be spent, by `rule:uid`, until their window frees a slot (issue 12): a flood past its
   * budget is refused here without a Redis round trip per call (the limiter's windows are fixed, so nothing
   * frees earlier than `retryAfterMs`, on any instance).
   */
  private readonly spent = new LRUCache<string, number>({ max: 100_000 });

  /** Every call, defined once per gateway: a socket holds no handler of its own, only the one dispatcher. */
  private readonly specs = new Map<string, CallSpec<z.ZodType>>();
  private readonly unknownEventLog = new WeakMap<GatewaySocket, { at: number; suppressed: number }>();
  /** One function for every socket (socket.io calls `onAny` listeners with the socket as `this`). */
  private readonly dispatch: (this: GatewaySocket, event: string, ...args: unknown[]) => void;

  constructor(private readonly deps: CallRegistryDeps) {
    const registry = this;
    this.dispatch = function (this: GatewaySocket, event: string, ...args: unknown[]) {
      registry.receive(this, event, args);
    };
  }

  /** Declares a client call; features define theirs when they are built, before any socket connects. */
  define<S extends z.ZodType>(event: string, spec: CallSpec<S>): void {
    if (this.specs.has(event)) throw new Error(`call ${event} is defined twice`);
    this.specs.set(event, spec as unknown as CallSpec<z.ZodType>);
  }

  /** The admitted socket's events reach their calls from now on. */
  attach(socket: GatewaySocket): void {
    socket.onAny(this.dispatch);
  }

  private receive(socket: GatewaySocket, event: string, args: unknown[]): void {
    const ack = typeof args[args.length - 1] === "function" ? (args.pop() as Ack) : undefined;
    const spec = this.specs.get(event);
    if (spec) void this.run(socket, event, spec, args[0], ack);
    // "error" always has socket.io's own no-op listener, yet no call answers it (found by test/fuzz.test.ts).
    else if (event === "error" || socket.listenerCount(event as never) === 0) this.refuseUnknown(socket, event, ack);
  }

  private async run(socket: GatewaySocket, event: string, spec: CallSpec<z.ZodType>, raw: unknown, ack: Ack | undefined): Promise<void> {
    try {
      guardPayload(raw);
      const payload = parsePayload(spec.schema, raw);
      await this.enforceRate(socket.data.uid, event, spec, payload);
      if (spec.userAction) void this.deps.hooks.emit("userAction", { uid: socket.data.uid, socket, event, at: this.deps.clock.now() });
      const result = await spec.handle(payload, socket);
      this.count(event, "OK");
      ack?.({ ok: true, ...(result ?? {}) });
    } catch (error) {
      const failure = GatewayError.from(error);
      this.logFailure(event, socket.data.uid, failure, error);
      this.count(event, failure.code);
      if (ack) ack({ ok: false, error: failure.data });
      else socket.emit("error", failure.data);
      if (FLOOD_CODES.has(failure.code)) this.noteRefusal(socket);
    }
  }

  /**
   * A client that keeps calling while told to wait, or keeps sending malformed or unknown calls, is not a
   * client following the protocol: it is cut off (each refusal still costs parsing and an answer, issue 12).
   */
  private noteRefusal(socket: GatewaySocket): void {
    const max = this.deps.maxRefusedCallsPerMinute;
    if (max === 0 || !socket.connected) return;
    const now = this.deps.clock.now();
    const seen = refusals.get(socket);
    const window = seen && now - seen.since < REFUSAL_WINDOW_MS ? seen : { since: now, count: 0 };
    window.count += 1;
    refusals.set(socket, window);
    if (window.count <= max) return;
    this.deps.metrics.sessionsEnded.inc({ reason: "CALL_FLOOD" });
    void this.deps.hooks.emit("callFlood", { uid: socket.data.uid, socket, refused: window.count, at: now });
    this.deps.logger.warn("socket cut off: refused calls kept coming", { uid: socket.data.uid, refused: window.count });
    socket.emit("session_ended", { reason: "CALL_FLOOD", message: "Too many refused calls (RATE_LIMITED, malformed or unknown); wait retryAfterMs before calling again and send only valid calls." });
    socket.disconnect(true);
  }

  private async enforceRate<S extends z.ZodType>(uid: string, event: string, spec: CallSpec<S>, payload: z.output<S>): Promise<void> {
    const rule = spec.rateLimit ?? event;
    const name = typeof rule === "function" ? rule(payload) : rule;
    const limit = this.deps.rateLimits[name];
    if (!limit) return;
    const key = `${name}:${uid}`;
    const retryAfterMs = (this.spent.get(key) ?? 0) - this.deps.clock.now();
    if (retryAfterMs > 0) throw new GatewayError("RATE_LIMITED", `At most ${limit.limit} ${name} calls per ${limit.windowMs / 1000} s; retry in ${Math.ceil(retryAfterMs / 1000)} s.`, { retryAfterMs });
    try {
      await requireWithinLimit(this.deps.rateLimiter, key, limit, `${name} calls`);
    } catch (error) {
      const after = error instanceof GatewayError ? error.data.retryAfterMs : undefined;
      if (after) this.spent.set(key, this.deps.clock.now() + after);
      throw error;
    }
  }

  private refuseUnknown(socket: GatewaySocket, event: string, ack: Ack | undefined): void {
    this.deps.metrics.unknownEvents.inc();
    const error = new GatewayError("INVALID_ARGUMENT", `Unknown event "${String(event).slice(0, 64)}".`);
    this.logUnknown(socket, event);
    if (ack) ack({ ok: false, error: error.data });
    else socket.emit("error", error.data);
    this.noteRefusal(socket);
  }

  /** At most one log line per connection per minute (issue 12: unknown events were a log-flooding path); all are counted. */
  private logUnknown(socket: GatewaySocket, event: string): void {
    const now = this.deps.clock.now();
    const last = this.unknownEventLog.get(socket);
    if (last && now - last.at < UNKNOWN_EVENT_LOG_MS) {
      last.suppressed += 1;
      return;
    }
    this.deps.logger.info("unknown event", { uid: socket.data.uid, event: String(event).slice(0, 64), suppressedSinceLast: last?.suppressed ?? 0 });
    this.unknownEventLog.set(socket, { at: now, suppressed: 0 });
  }

  private count(event: string, code: ErrorCode | "OK"): void {
    this.deps.metrics.events.inc({ event, code });
  }

  private logFailure(event: string, uid: string, failure: GatewayError, cause: unknown): void {
    const fields = { event, uid, code: failure.code, message: failure.message };
    const { logger } = this.deps;
    if (failure.code === "INTERNAL") logger.error("call failed", { ...fields, error: cause instanceof Error ? cause.stack : String(cause) });
    else if (failure.code === "UNAVAILABLE") logger.warn("call refused", fields);
    else logger.info("call refused", fields);
  }
}

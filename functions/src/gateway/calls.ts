import type { z } from "zod";
import { GatewayError, type ErrorCode } from "../errors";
import type { Clock } from "../ports/clock";
import type { Logger } from "../ports/logger";
import { RateLimiter, RateRule, requireWithinLimit } from "../ports/rate-limiter";
import type { GatewayHooks } from "./hooks";
import type { GatewayMetrics } from "./metrics";
import { parsePayload } from "./payloads";
import type { GatewaySocket } from "./socket";

/** How one client → server call is checked and answered. */
export interface CallSpec<S extends z.ZodType> {
  /** Validates the payload; the handler gets the parsed value (INVALID_ARGUMENT names the first bad field). */
  schema: S;
  /**
   * The rule of `config.rateLimits` the call consumes, by name or from the payload (send_message: by
   * message type). A name without a rule in the config is not limited.
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
}

type Ack = (response: unknown) => void;

/**
 * The one way features register client calls. Each call is parsed, rate-limited, run, and answered
 * through its acknowledgement with `{ ok: true, ...result }` or `{ ok: false, error }` (a call sent
 * without an ack gets its error as an `error` event). Errors never escape: a bad request cannot crash
 * the process or touch other sockets. Every answer is counted by event and code.
 */
export class CallRegistry {
  constructor(private readonly deps: CallRegistryDeps) {}

  register<S extends z.ZodType>(socket: GatewaySocket, event: string, spec: CallSpec<S>): void {
    (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(event, (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? (args.pop() as Ack) : undefined;
      void this.run(socket, event, spec, args[0], ack);
    });
  }

  private async run<S extends z.ZodType>(socket: GatewaySocket, event: string, spec: CallSpec<S>, raw: unknown, ack: Ack | undefined): Promise<void> {
    try {
      const payload = parsePayload(spec.schema, raw);
      await this.enforceRate(socket.data.uid, spec, payload);
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
    }
  }

  private async enforceRate<S extends z.ZodType>(uid: string, spec: CallSpec<S>, payload: z.output<S>): Promise<void> {
    if (!spec.rateLimit) return;
    const name = typeof spec.rateLimit === "function" ? spec.rateLimit(payload) : spec.rateLimit;
    const rule = this.deps.rateLimits[name];
    if (rule) await requireWithinLimit(this.deps.rateLimiter, `${name}:${uid}`, rule, `${name} calls`);
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

import { GatewayError, type ErrorCode } from "../errors";
import type { Logger } from "../ports/logger";
import type { GatewaySocket } from "./types";

type Handler = (payload: unknown) => Promise<object | void>;

/**
 * Registers a client → server call: runs the handler and answers the acknowledgement with
 * `{ ok: true, ...result }` or `{ ok: false, error }`. A call without an ack gets its error as an
 * `error` event. Errors never escape: a bad request cannot crash the process or touch other sockets.
 */
export function registerCall(
  socket: GatewaySocket,
  event: string,
  handler: Handler,
  deps: { logger: Logger; countError?: (code: ErrorCode) => void },
): void {
  (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(event, async (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (response: unknown) => void) : undefined;
    try {
      const result = await handler(args[0]);
      ack?.({ ok: true, ...(result ?? {}) });
    } catch (error) {
      const failure = GatewayError.from(error);
      logFailure(deps.logger, event, socket.data.uid, failure, error);
      deps.countError?.(failure.code);
      if (ack) ack({ ok: false, error: failure.data });
      else socket.emit("error", failure.data);
    }
  });
}

function logFailure(logger: Logger, event: string, uid: string, failure: GatewayError, cause: unknown): void {
  const fields = { event, uid, code: failure.code, message: failure.message };
  if (failure.code === "INTERNAL") logger.error("call failed", { ...fields, error: cause instanceof Error ? cause.stack : String(cause) });
  else if (failure.code === "UNAVAILABLE") logger.warn("call refused", fields);
  else logger.info("call refused", fields);
}

/** Rejects after `ms` with UNAVAILABLE, so a hung backing service cannot hold a call forever. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatewayError("UNAVAILABLE", `${what} did not answer in time; retry later.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { GatewayError } from "../../errors";
import { withTimeout } from "../../util/with-timeout";
import type { GatewayContext } from "../types";

/**
 * A message-store call bounded in time and measured; any store failure is UNAVAILABLE to the client
 * (retry later; a resend with the same clientId is safe), never a silent drop.
 */
export async function storeCall<T>(ctx: GatewayContext, operation: Promise<T>, what: string): Promise<T> {
  const stop = ctx.metrics.storeLatency.startTimer({ operation: what });
  try {
    const result = await withTimeout(ctx.load.trackStore(operation), ctx.config.storeTimeoutMs, () => new GatewayError("UNAVAILABLE", `${what} did not answer in time; retry later.`));
    ctx.metrics.firestoreUp.set(1);
    return result;
  } catch (error) {
    if (error instanceof GatewayError && error.code !== "UNAVAILABLE") throw error;
    ctx.metrics.firestoreUp.set(0);
    if (error instanceof GatewayError) throw error;
    ctx.logger.warn("store call failed", { what, error: String(error) });
    throw new GatewayError("UNAVAILABLE", `The message store failed while ${what}; retry later.`);
  } finally {
    stop();
  }
}

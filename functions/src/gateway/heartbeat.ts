import { z } from "zod";
import type { GatewayContext, GatewayFeature } from "./types";

/**
 * `heartbeat`: the client's liveness ping, sent every `heartbeatIntervalMs`. Answers the server time so
 * clients can estimate clock skew; presence refreshes the connection's expiry on the same event.
 * Any payload is accepted (older clients send one) and the ack is always answered.
 */
export function heartbeatFeature(ctx: GatewayContext): GatewayFeature {
  ctx.calls.define("heartbeat", { schema: z.unknown(), handle: () => ({ serverTime: ctx.clock.now() }) });
  return { name: "heartbeat" };
}

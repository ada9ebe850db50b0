import { z } from "zod";
import type { GatewayContext, GatewayFeature } from "./types";

/**
 * `heartbeat`: the client's liveness ping, sent every `heartbeatIntervalMs`. Answers the server time so
 * clients can estimate clock skew; presence refreshes the connection's expiry on the same event.
 * Any payload is accepted (older clients send one) and the ack is always answered.
 */
export function heartbeatFeature(ctx: GatewayContext): GatewayFeature {
  return {
    name: "heartbeat",
    onConnection(socket) {
      ctx.calls.register(socket, "heartbeat", { schema: z.unknown(), handle: () => ({ serverTime: ctx.clock.now() }) });
    },
  };
}

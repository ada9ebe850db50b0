import type { GatewayContext, GatewayFeature } from "./types";

/**
 * `heartbeat`: the client's liveness ping, sent every `heartbeatIntervalMs`. Answers the server time so
 * clients can estimate clock skew; presence refreshes the connection's expiry on the same event.
 */
export function heartbeatFeature(ctx: GatewayContext): GatewayFeature {
  return {
    name: "heartbeat",
    onConnection(socket) {
      socket.on("heartbeat", (ack) => {
        if (typeof ack === "function") ack({ ok: true, serverTime: ctx.clock.now() });
      });
    },
  };
}

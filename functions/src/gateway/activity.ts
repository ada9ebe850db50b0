import type { GatewayContext, GatewayFeature } from "./types";

/**
 * When this gateway last had a client: `idleSince` is null while sockets are connected, else the time
 * the last one left (or the start). `keepWebSocketAlive` stops a gateway idle for too long.
 */
export function activityFeature(ctx: GatewayContext): GatewayFeature {
  let idleSince = ctx.clock.now();
  let lastConnectionAt: number | null = null;
  const sockets = () => ctx.io.of("/").sockets.size;
  return {
    name: "activity",
    onConnection() {
      lastConnectionAt = ctx.clock.now();
    },
    onDisconnect() {
      if (sockets() === 0) idleSince = ctx.clock.now();
    },
    figures: () => ({ activity: { idleSince: sockets() > 0 ? null : idleSince, lastConnectionAt } }),
  };
}

import { valueOf } from "./metrics";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

interface EngineConnection {
  writeBuffer?: unknown[];
  transport?: { socket?: { bufferedAmount?: number } };
}

/**
 * A client that stops reading (frozen app, dead network that still ACKs nothing) makes the server
 * buffer everything sent to it. This check disconnects such a client once its backlog passes a bound,
 * so memory stays bounded; the client recovers the missed messages when it reconnects (offline queue, history).
 */
export function backpressureFeature(ctx: GatewayContext): GatewayFeature {
  const { maxPendingPackets, maxBufferedBytes, backpressureCheckMs } = ctx.config;
  const overloaded = (socket: GatewaySocket) => {
    const conn = socket.conn as unknown as EngineConnection;
    const packets = conn.writeBuffer?.length ?? 0;
    const bytes = conn.transport?.socket?.bufferedAmount ?? 0;
    return packets > maxPendingPackets || bytes > maxBufferedBytes ? { packets, bytes } : undefined;
  };
  const timer = setInterval(() => {
    for (const socket of ctx.io.of("/").sockets.values()) {
      const backlog = overloaded(socket);
      if (!backlog) continue;
      ctx.metrics.slowClientsDisconnected.inc();
      ctx.logger.warn("slow client disconnected", { uid: socket.data.uid, socketId: socket.id, ...backlog });
      socket.disconnect(true);
    }
  }, backpressureCheckMs);
  timer.unref();
  return {
    name: "backpressure",
    async stop() {
      clearInterval(timer);
    },
    figures: async () => ({ backpressure: { slowClientsDisconnected: await valueOf(ctx.metrics.slowClientsDisconnected) } }),
  };
}

import type { BroadcastStore } from "../ports/broadcast-store/broadcast-store";
import { valueOf } from "./metrics";
import type { GatewayContext, GatewayFeature, GatewaySocket } from "./types";

/** How far back a user who was never seen (no `lastBroadcastAt`) gets broadcasts replayed. */
export const BROADCAST_REPLAY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
const REPLAY_LIMIT = 50;
/** How long an instance trusts its idea of the newest stored broadcast before asking Firestore again. */
const NEWEST_CACHE_MS = 10_000;

/**
 * `emergency_broadcast`: live to this instance's sockets, and replayed on admission to users who missed
 * some (createdAt > `users/{uid}.lastBroadcastAt`, within the replay window). The mark is raised after a
 * replay and, on disconnect, to the newest broadcast delivered live while the socket was connected, so a
 * user who was never offline when a broadcast went out is not sent it again.
 * Broadcasts are rare, so admission first checks the newest one (cached per instance for 10 s): with none
 * in the replay window, or none newer than the user's mark, a connection costs no broadcast query.
 */
export function emergencyBroadcastsFeature(store: BroadcastStore) {
  return (ctx: GatewayContext): GatewayFeature => {
    let lastLive: { createdAt: number; deliveredAt: number } | undefined;
    let newest: { createdAt: number | null; checkedAt: number } | undefined;

    const newestBroadcast = async (): Promise<number | null> => {
      const now = ctx.clock.now();
      if (!newest || now - newest.checkedAt > NEWEST_CACHE_MS) newest = { createdAt: await store.newest(), checkedAt: now };
      return newest.createdAt;
    };

    ctx.hooks.on("broadcastDelivered", ({ broadcast, at }) => {
      lastLive = { createdAt: broadcast.createdAt, deliveredAt: at };
      if (newest && (newest.createdAt ?? 0) < broadcast.createdAt) newest.createdAt = broadcast.createdAt;
    });

    return {
      name: "broadcasts",
      async onConnection(socket: GatewaySocket) {
        const { uid } = socket.data;
        const windowStart = ctx.clock.now() - BROADCAST_REPLAY_WINDOW_MS;
        const latest = await newestBroadcast();
        if (latest === null || latest <= windowStart) return;
        const mark = Math.max((await store.lastReceived(uid)) ?? windowStart, windowStart);
        if (latest <= mark) return;
        const missed = await store.since(mark, REPLAY_LIMIT);
        for (const broadcast of missed) socket.emit("emergency_broadcast", broadcast);
        ctx.metrics.broadcastsReplayed.inc(missed.length);
        if (missed.length > 0) await store.markReceived(uid, missed[missed.length - 1].createdAt);
      },
      async onDisconnect(socket: GatewaySocket) {
        if (lastLive && lastLive.deliveredAt >= socket.data.connectedAt) await store.markReceived(socket.data.uid, lastLive.createdAt);
      },
      figures: async () => ({
        broadcasts: { replayed: await valueOf(ctx.metrics.broadcastsReplayed), deliveredLive: await valueOf(ctx.metrics.broadcastsDelivered) },
      }),
    };
  };
}

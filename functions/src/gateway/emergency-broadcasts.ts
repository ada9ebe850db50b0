import { z } from "zod";
import { GatewayError } from "../errors";
import type { BroadcastReceipts } from "../ports/broadcast-receipts/broadcast-receipts";
import type { BroadcastStore } from "../ports/broadcast-store/broadcast-store";
import type { EmergencyBroadcastPayload } from "../protocol";
import { isForEveryone } from "./broadcast-audience";
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
 *
 * Reach: every live delivery and replay raises the recipients' receipts to delivered; `ack_broadcast { id }`
 * raises the caller's to acknowledged. A targeted broadcast (group, role) is replayed only to users with a
 * receipt for it.
 */
const ackSchema = z.object({ id: z.string().min(1).max(128) });

export function emergencyBroadcastsFeature(store: BroadcastStore, receipts: BroadcastReceipts) {
  return (ctx: GatewayContext): GatewayFeature => {
    let lastLive: { createdAt: number; deliveredAt: number } | undefined;
    let newest: { createdAt: number | null; checkedAt: number } | undefined;

    const newestBroadcast = async (): Promise<number | null> => {
      const now = ctx.clock.now();
      if (!newest || now - newest.checkedAt > NEWEST_CACHE_MS) newest = { createdAt: await store.newest(), checkedAt: now };
      return newest.createdAt;
    };

    ctx.hooks.on("broadcastDelivered", async ({ broadcast, at, uids }) => {
      lastLive = { createdAt: broadcast.createdAt, deliveredAt: at };
      if (newest && (newest.createdAt ?? 0) < broadcast.createdAt) newest.createdAt = broadcast.createdAt;
      await receipts.markDelivered(broadcast.id, uids, at);
    });

    /** The missed broadcasts this user is meant to get (everyone's, and targeted ones with a receipt). */
    const forUser = async (uid: string, missed: EmergencyBroadcastPayload[]) => {
      const targeted = missed.filter((b) => !isForEveryone(b));
      if (targeted.length === 0) return missed;
      const mine = await Promise.all(targeted.map(async (b) => ((await receipts.targeted(b.id, [uid])).size ? b.id : "")));
      return missed.filter((b) => isForEveryone(b) || mine.includes(b.id));
    };

    ctx.calls.define("ack_broadcast", {
      schema: ackSchema,
      handle: async ({ id }, socket) => {
        if (!(await receipts.acknowledge(id, socket.data.uid, ctx.clock.now()))) throw new GatewayError("NOT_FOUND", `No broadcast ${id} for you.`);
        return { id };
      },
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
        const since = await store.since(mark, REPLAY_LIMIT);
        const missed = await forUser(uid, since);
        for (const broadcast of missed) socket.emit("emergency_broadcast", broadcast);
        ctx.metrics.broadcastsReplayed.inc(missed.length);
        const now = ctx.clock.now();
        await Promise.all(missed.map((b) => receipts.markDelivered(b.id, [uid], now)));
        if (missed.length > 0) void ctx.hooks.emit("broadcastReplayed", { broadcasts: missed, uid, at: now });
        if (since.length > 0) await store.markReceived(uid, since[since.length - 1].createdAt);
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

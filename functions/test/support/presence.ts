import type { Socket } from "socket.io-client";
import { firestore } from "../../src/firebase";
import type { PresenceStatus, PresenceUpdatePayload, UserPresence } from "../../src/protocol";
import type { ClientSocket } from "./gateway";
import { settle } from "./wait";

/** Small TTLs so that expiry and sweeping happen within a test; Socket.IO pings refresh presence. */
export const fastPresence = {
  heartbeatIntervalMs: 400,
  presenceTtlMs: 1_500,
  presenceSweepIntervalMs: 200,
  pingIntervalMs: 300,
  pingTimeoutMs: 20_000,
};

/** A conversation document as docs/DATA-MODEL.md describes it (the messaging feature writes these for real). */
export async function createConversation(members: string[], type: "direct" | "group" = members.length === 2 ? "direct" : "group") {
  const id = type === "direct" ? `dm_${[...members].sort().join("_")}` : `group_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const now = Date.now();
  await firestore()
    .collection("conversations")
    .doc(id)
    .set({ type, members, admins: [members[0]], name: type === "group" ? "group" : null, announcement: false, postingRoles: [], createdBy: members[0], createdAt: now, updatedAt: now });
  return id;
}

/** Every presence_update a client receives, in order. */
export function recordUpdates(socket: ClientSocket): PresenceUpdatePayload[] {
  const updates: PresenceUpdatePayload[] = [];
  socket.on("presence_update", (update) => updates.push(update));
  return updates;
}

/** Resolves with the next presence_update of `userId` showing `status`. */
export function nextPresence(socket: ClientSocket, userId: string, status: PresenceStatus, timeoutMs = 5_000): Promise<PresenceUpdatePayload> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off("presence_update", listener);
      reject(new Error(`no presence_update ${userId} → ${status} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (update: PresenceUpdatePayload) => {
      if (update.userId !== userId || update.status !== status) return;
      clearTimeout(timer);
      socket.off("presence_update", listener);
      resolve(update);
    };
    socket.on("presence_update", listener);
  });
}

export async function presenceOf(socket: ClientSocket, userIds: string[]): Promise<UserPresence[]> {
  const answer = await socket.timeout(5_000).emitWithAck("get_presence", { userIds });
  if (!answer.ok) throw new Error(`get_presence failed: ${answer.error.code} ${answer.error.message}`);
  return answer.presence;
}

export async function statusOf(socket: ClientSocket, userId: string): Promise<PresenceStatus> {
  return (await presenceOf(socket, [userId]))[0].status;
}

/**
 * Waits until the client's connection is in the presence store and it watches its contacts (its calls
 * wait for that), plus a moment for the room subscriptions to reach Redis when events cross instances.
 */
export async function presenceReady(socket: ClientSocket, settleMs = 150): Promise<void> {
  await presenceOf(socket, ["nobody"]);
  await settle(settleMs);
}

/**
 * The client stops reading from its TCP connection without closing it, as a phone that lost its network
 * does: no pongs, no heartbeats, and the server sees no close until its ping timeout.
 */
export function vanish(socket: ClientSocket): { destroy(): void } {
  const engine = (socket as unknown as Socket).io.engine as unknown as { transport: { ws?: { _socket?: { pause(): void; destroy(): void } } } };
  const tcp = engine.transport.ws?._socket;
  if (!tcp) throw new Error("vanish() needs a websocket transport");
  tcp.pause();
  // Destroy it before the test ends: a paused peer would hold the server's close open for 30 s.
  return tcp;
}

export async function userRecord(uid: string): Promise<Record<string, unknown> | undefined> {
  return (await firestore().collection("users").doc(uid).get()).data();
}


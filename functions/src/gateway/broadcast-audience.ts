import type { EmergencyBroadcastPayload } from "../protocol";
import type { GatewayServer, GatewaySocket } from "./types";

/**
 * This instance's sockets a broadcast is for: all of them (no target or everyone), the sockets in the group's
 * room `conv:{groupId}` (every member's sockets join it), or the sockets whose roles include the role.
 */
export function localAudience(io: GatewayServer, broadcast: EmergencyBroadcastPayload): GatewaySocket[] {
  const sockets = [...io.of("/").sockets.values()] as GatewaySocket[];
  if (broadcast.resendTo) {
    const only = new Set(broadcast.resendTo);
    return sockets.filter((s) => only.has(s.data.uid));
  }
  const target = broadcast.target;
  if (!target || "everyone" in target) return sockets;
  if ("role" in target) return sockets.filter((s) => s.data.roles?.includes(target.role));
  const room = io.of("/").adapter.rooms.get(`conv:${target.groupId}`);
  return room ? sockets.filter((s) => room.has(s.id)) : [];
}

/** Whether a broadcast with this target may be replayed to a user without looking up a receipt. */
export function isForEveryone(broadcast: EmergencyBroadcastPayload): boolean {
  return !broadcast.target || "everyone" in broadcast.target;
}

import { z } from "zod";
import { GatewayError } from "../../errors";
import type { CachedBlockList } from "../../ports/block-list";
import { idSchema } from "../payloads";
import { GatewayContext, GatewayFeature, GatewaySocket, presenceRoom, userRoom } from "../types";
import type { ConversationDirectory } from "./conversation-directory";
import { storeCall } from "./store-calls";

export interface BlockingPorts {
  blocks: CachedBlockList;
  conversations: (ctx: GatewayContext) => ConversationDirectory;
}

const userRefSchema = z.object({ userId: idSchema });

/**
 * Blocking: `block_user`, `unblock_user`, `list_blocked`. A change is stored, then every instance drops
 * its cached copy (`blocks_changed`), and the blocked user's sockets stop watching the blocker's
 * presence at once. Enforcement lives where the paths are (sending, groups, presence, active members)
 * through the `BlockChecks` port.
 */
export function blockingFeature(ports: BlockingPorts) {
  return (ctx: GatewayContext): GatewayFeature => {
    const conversations = ports.conversations(ctx);
    ctx.io.on("blocks_changed", (blocker, blocked) => ports.blocks.invalidate(blocker, blocked));

    const changed = (blocker: string, blocked: string) => {
      ports.blocks.invalidate(blocker, blocked);
      ctx.io.serverSideEmit("blocks_changed", blocker, blocked);
    };

    const block = async (socket: GatewaySocket, userId: string) => {
      const { uid } = socket.data;
      if (userId === uid) throw new GatewayError("INVALID_ARGUMENT", "userId: you cannot block yourself.");
      await conversations.requireUsers([userId]);
      await storeCall(ctx, ports.blocks.store.block(uid, userId, ctx.clock.now()), "storing the block");
      changed(uid, userId);
      ctx.io.in(userRoom(userId)).socketsLeave(presenceRoom(uid));
      return { userId, blocked: true };
    };

    const unblock = async (socket: GatewaySocket, userId: string) => {
      const { uid } = socket.data;
      await storeCall(ctx, ports.blocks.store.unblock(uid, userId), "removing the block");
      changed(uid, userId);
      return { userId, blocked: false };
    };

    const { calls } = ctx;
    calls.define("block_user", { schema: userRefSchema, rateLimit: "block", userAction: true, handle: (p, socket) => block(socket, p.userId) });
    calls.define("unblock_user", { schema: userRefSchema, rateLimit: "block", userAction: true, handle: (p, socket) => unblock(socket, p.userId) });
    calls.define("list_blocked", {
      schema: z.object({}).optional(),
      handle: async (_, socket) => ({ userIds: await storeCall(ctx, ports.blocks.store.blockedBy(socket.data.uid), "listing blocks") }),
    });
    return { name: "blocking" };
  };
}

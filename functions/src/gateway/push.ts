import { z } from "zod";
import { DEVICE_PLATFORMS, DeviceRegistry } from "../ports/device-registry/device-registry";
import type { PushDispatcher } from "../ports/push-sender/push-dispatcher";
import type { PushNotification } from "../ports/push-sender/push-sender";
import type { ChatMessage, ConversationSummary } from "../protocol";
import type { GatewayContext, GatewayFeature } from "./types";

const registerSchema = z.object({
  token: z.string().min(10).max(4_096),
  platform: z.enum(DEVICE_PLATFORMS),
  appVersion: z.string().max(64).optional(),
});
const unregisterSchema = z.object({ token: z.string().min(1).max(4_096) });
const muteSchema = z.object({
  conversationId: z.string().min(1).max(128),
  /** ms since epoch; absent = until unmuted; `null` or a past time unmutes. */
  until: z.number().int().nonnegative().nullable().optional(),
});

/** What a message push shows: nothing of the content for high encryption, nothing of the sender when anonymous. */
export function messagePush(message: ChatMessage, conversation: ConversationSummary): PushNotification {
  const direct = conversation.type === "direct";
  const hidden = message.encryptionLevel === "high";
  const body = hidden ? "New encrypted message" : message.type === "text" ? message.content.slice(0, 200) : `New ${message.type}`;
  const data: Record<string, string> = { kind: "message", conversationId: message.conversationId, messageId: message.id, seq: String(message.seq) };
  if (!message.isAnonymous && message.senderId) data.senderId = message.senderId;
  return {
    title: direct ? (message.isAnonymous ? "Anonymous message" : "New message") : (conversation.name ?? "Group"),
    body,
    data,
    collapseKey: `conv:${message.conversationId}`,
    priority: direct ? "high" : "normal",
  };
}

/** Issue 15: a mention wakes the device (high priority) and pierces a mute; the same content rules as a message push. */
export function mentionPush(message: ChatMessage, conversation: ConversationSummary): PushNotification {
  const push = messagePush(message, conversation);
  const where = conversation.type === "group" ? ` in ${conversation.name ?? "a group"}` : "";
  return { ...push, title: `You were mentioned${where}`, data: { ...push.data, kind: "mention" }, priority: "high" };
}

/**
 * Devices and push: `register_device`, `unregister_device`, `mute_conversation`, and one push per stored
 * message to each recipient the sending feature found offline (no live socket anywhere: the `offline` list
 * of `messageStored`), unless they muted the conversation. The rule is deliberately cheap: a recipient with a
 * socket open (even backgrounded) gets the message live and no push; the app shows a local notification when
 * it is in the background. Pushes run after the ack and never fail or delay it.
 */
export function pushFeature(deps: { devices: DeviceRegistry; push: PushDispatcher }) {
  return (ctx: GatewayContext): GatewayFeature => {
    ctx.hooks.on("messageStored", ({ message, conversation, senderId, offline }) => {
      const recipients = offline.filter((u) => u !== senderId);
      if (recipients.length === 0) return;
      // Issue 15: a mentioned recipient gets one mention push instead of the message push, even when muted.
      const mentioned = new Set(message.mentions ?? []);
      void (async () => {
        const muted = await deps.devices.mutedAmong(conversation.id, recipients, ctx.clock.now()).catch(() => new Set<string>());
        await Promise.all([
          deps.push.notify(recipients.filter((u) => !muted.has(u) && !mentioned.has(u)), messagePush(message, conversation)),
          deps.push.notify(recipients.filter((u) => mentioned.has(u)), mentionPush(message, conversation)),
        ]);
      })();
    });

    ctx.calls.define("register_device", {
      schema: registerSchema,
      handle: async ({ token, platform, appVersion }, socket) => {
        await deps.devices.register({ uid: socket.data.uid, token, platform, appVersion: appVersion ?? null, lastSeen: ctx.clock.now() }, ctx.config.maxDevicesPerUser);
        return {};
      },
    });
    ctx.calls.define("unregister_device", {
      schema: unregisterSchema,
      handle: async ({ token }, socket) => {
        await deps.devices.unregister(socket.data.uid, token);
        return {};
      },
    });
    ctx.calls.define("mute_conversation", {
      schema: muteSchema,
      handle: async ({ conversationId, until }, socket) => {
        const now = ctx.clock.now();
        const value = until === undefined ? 0 : until === null || until <= now ? null : until;
        await deps.devices.mute(socket.data.uid, conversationId, value);
        return { conversationId, muted: value !== null, until: value || null };
      },
    });
    return { name: "push" };
  };
}

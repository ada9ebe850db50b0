import type { DeviceRegistry } from "../device-registry/device-registry";
import type { Logger } from "../logger";
import type { PushNotification, PushSender } from "./push-sender";

/**
 * Pushes one notification to every device of some users and deletes the tokens the provider reported dead.
 * Never throws (a push failure must not fail a send, an ack or a broadcast); answers how many tokens it reached.
 */
export class PushDispatcher {
  constructor(
    private readonly devices: DeviceRegistry,
    private readonly sender: PushSender,
    private readonly logger: Logger,
  ) {}

  async notify(uids: string[], notification: PushNotification): Promise<number> {
    if (uids.length === 0) return 0;
    try {
      const tokens = [...(await this.devices.tokensOf(uids)).values()].flat();
      if (tokens.length === 0) return 0;
      const result = await this.sender.send(tokens, notification);
      if (result.invalidTokens.length) await this.devices.remove(result.invalidTokens);
      if (result.failed) this.logger.warn("push: some tokens failed", { failed: result.failed, collapseKey: notification.collapseKey });
      return result.sent;
    } catch (error) {
      this.logger.warn("push failed", { error: String(error), collapseKey: notification.collapseKey });
      return 0;
    }
  }
}

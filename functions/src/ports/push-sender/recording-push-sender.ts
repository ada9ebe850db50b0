import type { PushNotification, PushResult, PushSender } from "./push-sender";

/**
 * FCM has no local emulator: tests use this recording sender, which answers tokens listed in `dead` as
 * unregistered (as FCM does for an uninstalled app) and records everything else as sent.
 */
export class RecordingPushSender implements PushSender {
  readonly sent: { tokens: string[]; notification: PushNotification }[] = [];
  readonly dead = new Set<string>();

  async send(tokens: string[], notification: PushNotification): Promise<PushResult> {
    const live = tokens.filter((t) => !this.dead.has(t));
    if (live.length) this.sent.push({ tokens: live, notification });
    return { sent: live.length, failed: 0, invalidTokens: tokens.filter((t) => this.dead.has(t)) };
  }

  /** Pushes that reached a token. */
  to(token: string): PushNotification[] {
    return this.sent.filter((s) => s.tokens.includes(token)).map((s) => s.notification);
  }
}

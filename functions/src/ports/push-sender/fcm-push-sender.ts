import type { BatchResponse, Messaging, MulticastMessage } from "firebase-admin/messaging";
import type { PushNotification, PushResult, PushSender } from "./push-sender";

/** sendEachForMulticast takes at most 500 tokens. */
export const FCM_BATCH = 500;
/** Answers meaning the token is dead: delete it. */
export const DEAD_TOKEN_CODES = new Set(["messaging/registration-token-not-registered", "messaging/invalid-registration-token", "messaging/invalid-argument"]);
/** Answers worth retrying after a pause. */
export const TRANSIENT_CODES = new Set(["messaging/internal-error", "messaging/server-unavailable", "messaging/unavailable", "messaging/quota-exceeded", "messaging/message-rate-exceeded"]);

export interface FcmOptions {
  /** Retries of transient failures (default 3), with exponential backoff from `baseDelayMs` (default 500). */
  retries?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The multicast messages firebase-admin is asked to send for one notification (≤ 500 tokens each). */
export function multicastMessages(tokens: string[], n: PushNotification): MulticastMessage[] {
  const high = n.priority === "high";
  const messages: MulticastMessage[] = [];
  for (let i = 0; i < tokens.length; i += FCM_BATCH) {
    messages.push({
      tokens: tokens.slice(i, i + FCM_BATCH),
      notification: { title: n.title, body: n.body },
      data: n.data,
      android: { priority: high ? "high" : "normal", collapseKey: n.collapseKey, notification: { tag: n.collapseKey } },
      apns: {
        headers: { "apns-priority": high ? "10" : "5", "apns-collapse-id": n.collapseKey.slice(0, 64) },
        payload: { aps: { sound: "default", threadId: n.collapseKey } },
      },
      webpush: { headers: { Urgency: high ? "high" : "normal" }, notification: { tag: n.collapseKey } },
    });
  }
  return messages;
}

/**
 * Firebase Cloud Messaging through firebase-admin (`getMessaging().sendEachForMulticast`): batches of 500,
 * dead tokens reported for deletion, transient failures retried with exponential backoff. Never throws.
 */
export class FcmPushSender implements PushSender {
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly messaging: Pick<Messaging, "sendEachForMulticast">,
    options: FcmOptions = {},
  ) {
    this.retries = options.retries ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
  }

  async send(tokens: string[], notification: PushNotification): Promise<PushResult> {
    const results = await Promise.all(multicastMessages(tokens, notification).map((m) => this.sendBatch(m)));
    return results.reduce((a, r) => ({ sent: a.sent + r.sent, failed: a.failed + r.failed, invalidTokens: [...a.invalidTokens, ...r.invalidTokens] }), {
      sent: 0,
      failed: 0,
      invalidTokens: [] as string[],
    });
  }

  private async sendBatch(message: MulticastMessage): Promise<PushResult> {
    let pending = message.tokens;
    const result: PushResult = { sent: 0, failed: 0, invalidTokens: [] };
    for (let attempt = 0; pending.length > 0; attempt++) {
      const response = await this.messaging.sendEachForMulticast({ ...message, tokens: pending }).catch(() => undefined);
      const retry = response ? this.sortOut(pending, response, result) : pending;
      if (retry.length === 0) break;
      if (attempt >= this.retries) {
        result.failed += retry.length;
        break;
      }
      await this.sleep(this.baseDelayMs * 2 ** attempt);
      pending = retry;
    }
    return result;
  }

  /** Counts successes and dead tokens into `result`; answers the tokens to retry. */
  private sortOut(tokens: string[], response: BatchResponse, result: PushResult): string[] {
    const retry: string[] = [];
    response.responses.forEach((r, i) => {
      const code = r.error?.code ?? "";
      if (r.success) result.sent++;
      else if (DEAD_TOKEN_CODES.has(code)) result.invalidTokens.push(tokens[i]);
      else if (TRANSIENT_CODES.has(code)) retry.push(tokens[i]);
      else result.failed++;
    });
    return retry;
  }
}

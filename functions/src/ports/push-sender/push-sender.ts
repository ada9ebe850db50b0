/** One push, the same for every token it goes to. */
export interface PushNotification {
  title: string;
  body: string;
  /** Data the app reads to open the right screen (FCM data values are strings). */
  data: Record<string, string>;
  /** Pushes with the same key replace each other on the device (one per conversation, call or broadcast). */
  collapseKey: string;
  /** high: direct messages, calls, emergencies (wakes the device); normal: the rest. */
  priority: "high" | "normal";
}

export interface PushResult {
  sent: number;
  failed: number;
  /** Tokens the provider says will never work again: delete them. */
  invalidTokens: string[];
}

/** The push port: send one notification to device tokens (FCM in production, a recording in tests). */
export interface PushSender {
  send(tokens: string[], notification: PushNotification): Promise<PushResult>;
}

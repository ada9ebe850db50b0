import type { ErrorCode } from "../../errors";

/** Messaging figures of one instance for `/status`: counts since start and a 60-second send rate. */
export class MessagingStats {
  private sent = 0;
  private duplicates = 0;
  private queued = 0;
  private recipientsTargeted = 0;
  private deliveriesConfirmed = 0;
  private readonly errors: Partial<Record<ErrorCode, number>> = {};
  private readonly perSecond = new Array<number>(60).fill(0);
  private currentSecond = 0;

  constructor(private readonly now: () => number) {}

  messageSent(recipients: number, queued: number): void {
    this.sent += 1;
    this.recipientsTargeted += recipients;
    this.queued += queued;
    this.tick(1);
  }

  duplicate(): void {
    this.duplicates += 1;
  }

  deliveriesConfirmedFor(count: number): void {
    this.deliveriesConfirmed += count;
  }

  error(code: ErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot() {
    this.tick(0);
    const lastMinute = this.perSecond.reduce((a, b) => a + b, 0);
    return {
      messagesSent: this.sent,
      duplicateSends: this.duplicates,
      offlineQueued: this.queued,
      messagesPerSecond: Math.round((lastMinute / 60) * 100) / 100,
      deliveriesConfirmed: this.deliveriesConfirmed,
      deliverySuccessRate: this.recipientsTargeted === 0 ? null : Math.min(1, this.deliveriesConfirmed / this.recipientsTargeted),
      errorsByCode: { ...this.errors },
    };
  }

  private tick(add: number): void {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.currentSecond) {
      const gap = Math.min(60, second - this.currentSecond);
      for (let i = 1; i <= gap; i += 1) this.perSecond[(this.currentSecond + i) % 60] = 0;
      this.currentSecond = second;
    }
    this.perSecond[second % 60] += add;
  }
}

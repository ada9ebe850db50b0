/** Events per second over the last minute, in 60 one-second slots (messages per second in `/status`). */
export class RateWindow {
  private readonly slots = new Array<number>(60).fill(0);
  private currentSecond = 0;

  constructor(private readonly now: () => number) {}

  add(count: number): void {
    this.advance();
    this.slots[this.currentSecond % 60] += count;
  }

  perSecond(): number {
    this.advance();
    const lastMinute = this.slots.reduce((a, b) => a + b, 0);
    return Math.round((lastMinute / 60) * 100) / 100;
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    if (second === this.currentSecond) return;
    const gap = Math.min(60, second - this.currentSecond);
    for (let i = 1; i <= gap; i += 1) this.slots[(this.currentSecond + i) % 60] = 0;
    this.currentSecond = second;
  }
}

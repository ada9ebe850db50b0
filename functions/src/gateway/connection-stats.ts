/** Connection figures of one gateway instance, for `/status` and metrics. */
export class ConnectionStats {
  private active = 0;
  private peak = 0;
  private total = 0;
  private refused = 0;
  private readonly socketsByUser = new Map<string, number>();

  connected(uid: string): void {
    this.active += 1;
    this.total += 1;
    this.peak = Math.max(this.peak, this.active);
    this.socketsByUser.set(uid, (this.socketsByUser.get(uid) ?? 0) + 1);
  }

  disconnected(uid: string): void {
    this.active -= 1;
    const left = (this.socketsByUser.get(uid) ?? 1) - 1;
    if (left > 0) this.socketsByUser.set(uid, left);
    else this.socketsByUser.delete(uid);
  }

  refusedOne(): void {
    this.refused += 1;
  }

  snapshot() {
    return {
      active: this.active,
      authenticated: this.active,
      peak: this.peak,
      total: this.total,
      refused: this.refused,
      uniqueUsers: this.socketsByUser.size,
    };
  }
}

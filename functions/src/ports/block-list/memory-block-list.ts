import type { BlockList } from "./block-list";

/** Blocks in this process's memory: single-process runs. */
export class MemoryBlockList implements BlockList {
  private readonly blocks = new Map<string, number>();

  async block(blocker: string, blocked: string, now: number) {
    const key = `${blocker}\u0000${blocked}`;
    if (!this.blocks.has(key)) this.blocks.set(key, now);
  }

  async unblock(blocker: string, blocked: string) {
    this.blocks.delete(`${blocker}\u0000${blocked}`);
  }

  async blockedBy(blocker: string) {
    return this.pairs().filter(([a]) => a === blocker).map(([, b]) => b);
  }

  async blockersOf(uid: string) {
    return this.pairs().filter(([, b]) => b === uid).map(([a]) => a);
  }

  private pairs(): Array<[string, string]> {
    return [...this.blocks.entries()].sort((x, y) => x[1] - y[1]).map(([key]) => key.split("\u0000") as [string, string]);
  }
}

import { GatewayError } from "../../errors";

/**
 * The block list port: who blocked whom. A block is one-directional (`blocker` blocked `blocked`);
 * enforcement treats a direct conversation with a block in either direction as closed.
 * Adapters: Firestore (`blocks/{blocker}_{blocked}`) and memory; `CachedBlockList` in front of either.
 */
export interface BlockList {
  block(blocker: string, blocked: string, now: number): Promise<void>;
  unblock(blocker: string, blocked: string): Promise<void>;
  /** The users `blocker` has blocked, oldest first. */
  blockedBy(blocker: string): Promise<string[]>;
  /** The users who blocked `uid`. */
  blockersOf(uid: string): Promise<string[]>;
}

/** What features (and other issues' code: consent, calls) ask of blocking. */
export interface BlockChecks {
  /** true when `blocker` has blocked `blocked`. */
  isBlocked(blocker: string, blocked: string): Promise<boolean>;
  /** true when either user has blocked the other. */
  eitherBlocked(a: string, b: string): Promise<boolean>;
  /** The users who blocked `uid` (cached). */
  blockersOf(uid: string): Promise<Set<string>>;
}

/** PERMISSION_DENIED when a block stands between the two users (either direction). */
export async function requireNoBlockBetween(checks: BlockChecks, uid: string, other: string): Promise<void> {
  if (!(await checks.eitherBlocked(uid, other))) return;
  const youBlocked = await checks.isBlocked(uid, other);
  throw new GatewayError(
    "PERMISSION_DENIED",
    youBlocked ? `You blocked ${other}; unblock them first.` : `You cannot contact ${other}.`,
  );
}

import type { Auth, UserRecord } from "firebase-admin/auth";
import { LRUCache } from "lru-cache";
import type { UserProfile } from "../../protocol";
import type { UserDirectory } from "./user-directory";

const LOOKUP_BATCH = 100; // getUsers takes at most 100 identifiers

/**
 * Firebase Auth accounts; known uids are remembered so a conversation costs one lookup, not one per message.
 * They are remembered for `knownTtlMs` only (default 5 minutes, the bound of session re-verification): a
 * disabled account stops being a valid recipient or group member within that time (issue 11).
 */
export class FirebaseUserDirectory implements UserDirectory {
  private readonly known: LRUCache<string, true>;
  /** Uids Auth did not know (or disabled), remembered briefly so repeating them costs no lookup (issue 12). */
  private readonly missing = new LRUCache<string, true>({ max: 100_000, ttl: 60_000 });

  constructor(
    private readonly auth: Auth,
    options: { knownTtlMs?: number } = {},
  ) {
    this.known = new LRUCache<string, true>({ max: 100_000, ttl: options.knownTtlMs ?? 300_000 });
  }

  async existing(uids: string[]): Promise<Set<string>> {
    const unknown = [...new Set(uids)].filter((u) => !this.known.has(u) && !this.missing.has(u));
    for (let i = 0; i < unknown.length; i += LOOKUP_BATCH) {
      const chunk = unknown.slice(i, i + LOOKUP_BATCH);
      const { users } = await this.auth.getUsers(chunk.map((uid) => ({ uid })));
      for (const user of users) if (!user.disabled) this.known.set(user.uid, true);
      for (const uid of chunk) if (!this.known.has(uid)) this.missing.set(uid, true);
    }
    return new Set(uids.filter((u) => this.known.has(u)));
  }

  async findByEmail(email: string): Promise<UserProfile | null> {
    try {
      const user = await this.auth.getUserByEmail(email);
      return user.disabled ? null : profileOf(user);
    } catch (error) {
      if ((error as { code?: string }).code === "auth/user-not-found") return null;
      throw error;
    }
  }

  async profiles(uids: string[]): Promise<UserProfile[]> {
    const found: UserProfile[] = [];
    const unique = [...new Set(uids)];
    for (let i = 0; i < unique.length; i += LOOKUP_BATCH) {
      const { users } = await this.auth.getUsers(unique.slice(i, i + LOOKUP_BATCH).map((uid) => ({ uid })));
      for (const user of users) if (!user.disabled) found.push(profileOf(user));
    }
    return found;
  }
}

function profileOf(user: UserRecord): UserProfile {
  return { uid: user.uid, displayName: user.displayName ?? null };
}

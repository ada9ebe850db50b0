import type { Auth, UserRecord } from "firebase-admin/auth";
import type { UserProfile } from "../../protocol";
import type { UserDirectory } from "./user-directory";

const LOOKUP_BATCH = 100; // getUsers takes at most 100 identifiers

/** Firebase Auth accounts; known uids are remembered so a conversation costs one lookup, not one per message. */
export class FirebaseUserDirectory implements UserDirectory {
  private readonly known = new Set<string>();

  constructor(private readonly auth: Auth) {}

  async existing(uids: string[]): Promise<Set<string>> {
    const unknown = [...new Set(uids)].filter((u) => !this.known.has(u));
    for (let i = 0; i < unknown.length; i += LOOKUP_BATCH) {
      const { users } = await this.auth.getUsers(unknown.slice(i, i + LOOKUP_BATCH).map((uid) => ({ uid })));
      for (const user of users) if (!user.disabled) this.remember(user.uid);
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

  private remember(uid: string): void {
    if (this.known.size > 100_000) this.known.clear();
    this.known.add(uid);
  }
}

function profileOf(user: UserRecord): UserProfile {
  return { uid: user.uid, displayName: user.displayName ?? null };
}

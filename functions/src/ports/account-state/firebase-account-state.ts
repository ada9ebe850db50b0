import type { Auth } from "firebase-admin/auth";
import { AccountState, AccountStatePort, MAX_LOOKUP_UIDS } from "./account-state";

/** Firebase Auth (production, or the Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set). */
export class FirebaseAccountState implements AccountStatePort {
  constructor(private readonly auth: Auth) {}

  async lookup(uids: string[]): Promise<Map<string, AccountState>> {
    if (uids.length > MAX_LOOKUP_UIDS) throw new Error(`lookup: at most ${MAX_LOOKUP_UIDS} uids per call`);
    const { users } = await this.auth.getUsers(uids.map((uid) => ({ uid })));
    const states = new Map<string, AccountState>();
    for (const user of users) {
      const after = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : NaN;
      states.set(user.uid, { disabled: user.disabled, tokensValidAfter: Number.isFinite(after) ? after : null });
    }
    return states;
  }

  async revoke(uid: string): Promise<void> {
    await this.auth.revokeRefreshTokens(uid);
  }
}

/** What re-verification needs to know of an account (Firebase Auth `UserRecord`, reduced). */
export interface AccountState {
  disabled: boolean;
  /** ms since epoch: tokens issued (auth_time) before this were revoked; null when never revoked. */
  tokensValidAfter: number | null;
}

/**
 * The account-state port: the current state of accounts (disabled, revoked) and the admin kick.
 * `lookup` answers at most 100 uids per call (the Admin SDK's `getUsers` bound); a missing uid is an
 * account that no longer exists.
 */
export interface AccountStatePort {
  lookup(uids: string[]): Promise<Map<string, AccountState>>;
  /** Revokes the user's refresh tokens (Admin SDK `revokeRefreshTokens`). */
  revoke(uid: string): Promise<void>;
}

export const MAX_LOOKUP_UIDS = 100;

import { AccountState, AccountStatePort } from "./account-state";

/** In memory (tests of the feature without Auth, embedding hosts): every unknown uid is an active account. */
export class MemoryAccountState implements AccountStatePort {
  readonly states = new Map<string, AccountState>();
  lookups = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async lookup(uids: string[]): Promise<Map<string, AccountState>> {
    this.lookups++;
    return new Map(uids.map((uid) => [uid, this.states.get(uid) ?? { disabled: false, tokensValidAfter: null }]));
  }

  async revoke(uid: string): Promise<void> {
    this.states.set(uid, { disabled: this.states.get(uid)?.disabled ?? false, tokensValidAfter: this.now() });
  }
}

import type { Auth } from "firebase-admin/auth";

/** What an account shows others. */
export interface UserProfile {
  uid: string;
  displayName: string | null;
  photoURL: string | null;
}

/** The profile fields of accounts (Firebase Auth); disabled and unknown accounts are absent. */
export interface UserProfiles {
  profilesOf(uids: string[]): Promise<Map<string, UserProfile>>;
}

const LOOKUP_BATCH = 100; // getUsers takes at most 100 identifiers

export class FirebaseUserProfiles implements UserProfiles {
  constructor(private readonly auth: Auth) {}

  async profilesOf(uids: string[]): Promise<Map<string, UserProfile>> {
    const unique = [...new Set(uids)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += LOOKUP_BATCH) batches.push(unique.slice(i, i + LOOKUP_BATCH));
    const answers = await Promise.all(batches.map((batch) => this.auth.getUsers(batch.map((uid) => ({ uid })))));
    const found = new Map<string, UserProfile>();
    for (const { users } of answers) {
      for (const user of users) {
        if (!user.disabled) found.set(user.uid, { uid: user.uid, displayName: user.displayName ?? null, photoURL: user.photoURL ?? null });
      }
    }
    return found;
  }
}

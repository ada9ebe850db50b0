import type { UserProfile } from "../../protocol";

/** The user directory port: which uids are real accounts (direct messages, group members), and lookups for clients. */
export interface UserDirectory {
  existing(uids: string[]): Promise<Set<string>>;
  /** The enabled account with this email, or null. */
  findByEmail(email: string): Promise<UserProfile | null>;
  /** Profiles of the enabled accounts among `uids` (unknown and disabled ones are left out). */
  profiles(uids: string[]): Promise<UserProfile[]>;
}

/** The user directory port: which uids are real accounts (direct messages, group members). */
export interface UserDirectory {
  existing(uids: string[]): Promise<Set<string>>;
}

/** Who shares a conversation with a user: the people its presence changes are announced to. */
export interface ContactDirectory {
  contactsOf(uid: string): Promise<string[]>;
  /** Who shares a direct (one-to-one) conversation with the user: its `contacts` in presence privacy (issue 12). */
  directContactsOf?(uid: string): Promise<string[]>;
}

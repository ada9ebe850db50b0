/** Who shares a conversation with a user: the people its presence changes are announced to. */
export interface ContactDirectory {
  contactsOf(uid: string): Promise<string[]>;
}

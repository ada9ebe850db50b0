import type { ContactDirectory } from "./contact-directory";

/** Anything that lists a user's conversations (the message store does). */
export interface ConversationSource {
  conversationsOf(uid: string): Promise<Array<{ members: string[]; type?: string }>>;
}

/** Contacts from the conversations a store holds: the adapter for the in-memory message store. */
export class StoreContactDirectory implements ContactDirectory {
  constructor(private readonly conversations: ConversationSource) {}

  async contactsOf(uid: string): Promise<string[]> {
    const contacts = new Set<string>();
    for (const { members } of await this.conversations.conversationsOf(uid)) {
      for (const member of members) if (member !== uid) contacts.add(member);
    }
    return [...contacts];
  }

  async directContactsOf(uid: string): Promise<string[]> {
    const conversations = await this.conversations.conversationsOf(uid);
    return conversations.filter((c) => c.type === "direct").flatMap((c) => c.members.filter((m) => m !== uid));
  }
}

import type { ContactDirectory } from "./contact-directory/contact-directory";

/**
 * Who may see whose presence (status, custom status, last seen, last active, last login): one rule for
 * the socket and the HTTP API.
 *
 * The rule: a viewer sees its own presence and the presence of the users it shares a conversation with
 * (direct or group; `conversations where members array-contains viewer`, through the contact
 * directory, which each process caches for `presenceContactsCacheMs`). Nobody else: not strangers,
 * not former members once the cache has moved on, and no role is exempt.
 *
 * What a caller is told about a user it may not see is the caller's choice, but it must not reveal
 * more than an unknown id would: the HTTP API answers 404 for one user and leaves such users out of
 * batch answers (`notVisible`); a socket may refuse or answer `offline` without details.
 */
export interface PresenceVisibility {
  /** The subset of `uids` the viewer may see (itself included when asked). */
  visibleAmong(viewer: string, uids: string[]): Promise<Set<string>>;
  maySee(viewer: string, uid: string): Promise<boolean>;
  /** Everyone whose presence the viewer may see, itself excluded (its contacts). */
  visibleTo(viewer: string): Promise<string[]>;
}

/** The rule over a contact directory (Firestore with its cache, or the in-memory store's). */
export function presenceVisibility(contacts: ContactDirectory): PresenceVisibility {
  const visibleAmong = async (viewer: string, uids: string[]): Promise<Set<string>> => {
    const others = uids.filter((uid) => uid !== viewer);
    const visible = new Set(uids.filter((uid) => uid === viewer));
    if (others.length === 0) return visible;
    const known = new Set(await contacts.contactsOf(viewer));
    for (const uid of others) if (known.has(uid)) visible.add(uid);
    return visible;
  };
  return {
    visibleAmong,
    maySee: async (viewer, uid) => (await visibleAmong(viewer, [uid])).has(uid),
    visibleTo: async (viewer) => (await contacts.contactsOf(viewer)).filter((uid) => uid !== viewer),
  };
}

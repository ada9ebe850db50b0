import type { BlockChecks } from "./block-list/block-list";
import type { ContactDirectory } from "./contact-directory/contact-directory";

/**
 * Who may see whose presence (status, custom status, last seen, last active, last login): one rule for
 * the HTTP API and the socket (gateway/presence.ts, issue 12).
 *
 * The rule: a viewer sees its own presence and the presence of the users it shares a conversation with
 * (direct or group; from the contact directory, cached by the caller's adapter). Nobody else: not
 * strangers, not former members once the cache has moved on, and no role is exempt. A contact who
 * blocked the viewer is shown as the socket shows it since issue 14: `offline`, without last seen or
 * custom status ("masked").
 *
 * What a caller is told about a user it may not see must not reveal more than an unknown id would: the
 * HTTP API answers 404 for one user and lists such users under `notVisible` in batch answers.
 */
export interface PresenceVisibility {
  /** The subset of `uids` the viewer may see (itself included when asked), masked ones included. */
  visibleAmong(viewer: string, uids: string[]): Promise<Set<string>>;
  maySee(viewer: string, uid: string): Promise<boolean>;
  /** Everyone whose presence the viewer may see, itself excluded (its contacts). */
  visibleTo(viewer: string): Promise<string[]>;
  /** Users the viewer sees only as `offline` without details: they blocked the viewer. */
  maskedFor(viewer: string): Promise<Set<string>>;
}

/** The rule over a contact directory and, when blocking exists, the block checks. */
export function presenceVisibility(contacts: ContactDirectory, blocks?: Pick<BlockChecks, "blockersOf">): PresenceVisibility {
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
    maskedFor: async (viewer) => (blocks ? blocks.blockersOf(viewer) : new Set<string>()),
  };
}

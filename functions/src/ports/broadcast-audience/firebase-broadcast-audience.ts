import type { Auth, UserRecord } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { GatewayError } from "../../errors";
import type { BroadcastTarget } from "../../protocol";
import { rolesFromClaims } from "../token-verifier/token-verifier";
import type { BroadcastAudience } from "./broadcast-audience";

const PAGE = 1_000; // listUsers returns at most 1,000 accounts a page

/**
 * Everyone and roles from Firebase Auth itself (`listUsers`, paged; disabled accounts left out; roles read
 * from custom claims exactly as the token verifier reads them), so no second copy of the roles can drift;
 * a group from its conversation document's `members`. Listing 100k accounts takes about 100 pages: fine for a
 * rare, deliberate act like an emergency broadcast.
 */
export class FirebaseBroadcastAudience implements BroadcastAudience {
  constructor(
    private readonly auth: Auth,
    private readonly db: Firestore,
  ) {}

  async resolve(target: BroadcastTarget): Promise<string[]> {
    if ("groupId" in target) return this.groupMembers(target.groupId);
    const role = "role" in target ? target.role : undefined;
    return this.accounts((user) => !role || rolesFromClaims(user.customClaims ?? {}).includes(role));
  }

  private async groupMembers(groupId: string): Promise<string[]> {
    const conversation = await this.db.collection("conversations").doc(groupId).get();
    if (!conversation.exists) throw new GatewayError("NOT_FOUND", `No group ${groupId}.`);
    const members = conversation.get("members");
    return Array.isArray(members) ? members.map(String) : [];
  }

  private async accounts(keep: (user: UserRecord) => boolean): Promise<string[]> {
    const uids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.auth.listUsers(PAGE, pageToken);
      for (const user of page.users) if (!user.disabled && keep(user)) uids.push(user.uid);
      pageToken = page.pageToken;
    } while (pageToken);
    return uids;
  }
}

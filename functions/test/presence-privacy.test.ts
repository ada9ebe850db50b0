import { expect } from "chai";
import type { PresenceUpdatePayload, UserPresence } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk } from "./support/messaging";
import { createConversation, fastPresence, nextPresence, presenceOf, presenceReady, recordUpdates } from "./support/presence";
import { createUsers } from "./support/users";
import { settle } from "./support/wait";
import { presenceViews } from "../src/http-api/presence-views";
import type { ApiDeps } from "../src/http-api/types";
import { MemoryPresencePrivacy } from "../src/ports/presence-privacy";
import { silentLogger } from "../src/ports/logger";

/** Issue 12 (4): presence privacy on the socket. */
describe("presence privacy", () => {
  it("hides custom status and last seen from group co-members when set to contacts, from everyone when set to nobody; direct contacts see them", async () => {
    const { connect, users: [alice, member, friend] } = await gatewayWith(["alice", "member", "friend"], fastPresence);
    await createConversation([alice.uid, member.uid, "someone"], "group");
    await createConversation([alice.uid, friend.uid], "direct");
    const [m, f, a] = await connect(member, friend, alice);
    await Promise.all([m, f, a].map((c) => presenceReady(c.socket)));

    const set = await callOk<{ privacy: object }>(a.socket, "set_presence_privacy", { lastSeen: "contacts", customStatus: "contacts" });
    expect(set.privacy).to.deep.equal({ lastSeen: "contacts", customStatus: "contacts" });
    const memberHearsBusy = nextPresence(m.socket, alice.uid, "busy");
    await callOk(a.socket, "update_presence", { status: "busy", customStatus: "at the clinic, room 4" });
    const broadcast = await memberHearsBusy;
    expect(broadcast).to.not.have.property("customStatus");

    expect(await presenceOf(m.socket, [alice.uid])).to.deep.equal([{ userId: alice.uid, status: "busy" }]);
    expect(await presenceOf(f.socket, [alice.uid])).to.deep.equal([{ userId: alice.uid, status: "busy", customStatus: "at the clinic, room 4" }]);

    const memberHearsOffline = nextPresence(m.socket, alice.uid, "offline");
    a.socket.disconnect();
    expect(await memberHearsOffline).to.not.have.property("lastSeen");
    const [seenByMember] = await presenceOf(m.socket, [alice.uid]);
    const [seenByFriend] = await presenceOf(f.socket, [alice.uid]);
    expect(seenByMember).to.not.have.property("lastSeen");
    expect(seenByFriend.lastSeen).to.be.a("number");

    const [again] = await connect(alice);
    await callOk(again.socket, "set_presence_privacy", { lastSeen: "nobody", customStatus: "nobody" });
    again.socket.disconnect();
    await settle(300);
    const [hidden] = await presenceOf(f.socket, [alice.uid]);
    expect(hidden).to.not.have.property("lastSeen");
    expect(hidden).to.not.have.property("customStatus");
  });

  it("answers the current settings to an empty set_presence_privacy and refuses an unknown audience", async () => {
    const { connect, users: [alice] } = await gatewayWith(["alice"]);
    const [a] = await connect(alice);
    expect((await callOk<{ privacy: object }>(a.socket, "set_presence_privacy", {})).privacy).to.deep.equal({ lastSeen: "everyone", customStatus: "everyone" });
    expectError(await call(a.socket, "set_presence_privacy", { lastSeen: "friends" }), "INVALID_ARGUMENT");
  });

  it("stops a group's presence flow at once on every instance when a member is removed", async () => {
    const [admin, removed, stays] = await createUsers("admin", "removed", "stays");
    const one = await startGateway(fastPresence);
    const two = await startGateway(fastPresence);
    const [a, s] = [await connectAs(one.url, admin.idToken), await connectAs(one.url, stays.idToken)];
    const r = await connectAs(two.url, removed.idToken);
    await Promise.all([a, s, r].map((c) => presenceReady(c.socket)));
    const { conversation } = await callOk<{ conversation: { id: string } }>(a.socket, "create_group", { name: "clinic", memberIds: [removed.uid, stays.uid] });
    const removedHearsBusy = nextPresence(r.socket, stays.uid, "busy");
    await callOk(s.socket, "update_presence", { status: "busy" });
    await removedHearsBusy;

    await callOk(a.socket, "remove_members", { conversationId: conversation.id, memberIds: [removed.uid] });
    await settle(300);
    const removedHeard: PresenceUpdatePayload[] = recordUpdates(r.socket);
    const staysHeard: PresenceUpdatePayload[] = recordUpdates(s.socket);
    const adminHearsAway = nextPresence(a.socket, stays.uid, "away");
    await callOk(s.socket, "update_presence", { status: "away" });
    await callOk(r.socket, "update_presence", { status: "busy" });
    await adminHearsAway;
    await settle(300);

    expect(removedHeard).to.deep.equal([]);
    expect(staysHeard.filter((u) => u.userId === removed.uid)).to.deep.equal([]);
    const { presence } = await callOk<{ presence: UserPresence[] }>(r.socket, "get_presence", { userIds: [stays.uid] });
    expect(presence).to.deep.equal([{ userId: stays.uid, status: "offline" }]);
  });

  it("applies the same settings over the HTTP API (presence views): hidden last seen, last active and custom status", async () => {
    const privacy = new MemoryPresencePrivacy();
    await privacy.update("alice", { lastSeen: "contacts", customStatus: "nobody" });
    const deps = {
      config: { httpBackendTimeoutMs: 5_000 },
      logger: silentLogger,
      records: { recordsOf: async (uids: string[]) => new Map(uids.map((u) => [u, { lastSeen: 5, lastActiveAt: 6 }])) },
      presence: { get: async (uids: string[]) => uids.map((userId) => ({ userId, status: "busy", customStatus: "room 4" })) },
      visibility: { maskedFor: async () => new Set<string>() },
      privacy,
      directContactsOf: async (uid: string) => (uid === "friend" ? ["alice"] : []),
    } as unknown as ApiDeps;

    const { views: [toMember] } = await presenceViews(deps, "member", ["alice"], true);
    const { views: [toFriend] } = await presenceViews(deps, "friend", ["alice"], true);
    const { views: [toSelf] } = await presenceViews(deps, "alice", ["alice"], true);

    expect(toMember).to.deep.equal({ userId: "alice", isOnline: true, status: "busy", lastSeen: null, lastActiveAt: null });
    expect(toFriend).to.deep.equal({ userId: "alice", isOnline: true, status: "busy", lastSeen: null, lastActiveAt: 6 });
    expect(toSelf).to.include({ customStatus: "room 4", lastActiveAt: 6 });
  });
});

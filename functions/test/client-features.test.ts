/**
 * The client library's helpers against a real gateway: typing, presence, groups, people, emergency broadcasts.
 */
import { expect } from "chai";
import type { GroupInvitation, TalowaError, TypingPayload, UserPresence } from "../../client/src/index.js";
import { appInbox, holds, started, talowaClient } from "./support/client";
import { connectAs, startGateway } from "./support/gateway";
import { collect } from "./support/messaging";
import { settle } from "./support/wait";
import { createUser } from "./support/users";

describe("client library: typing, presence, groups, people, broadcasts", function () {
  this.timeout(30_000);

  it("typing: keystrokes send one typing_start per refresh period, and the indicator stops by itself after a pause", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice, { typing: { refreshMs: 2_000, idleMs: 400 } }));
    const b = await started(talowaClient(url, bob));
    const { conversationId } = await a.send({ recipientId: bob.uid, content: "hello" });
    const raw = await connectAs(url, bob.idToken);
    const wire = collect<TypingPayload>(raw.socket, "typing");
    const shown: string[][] = [];
    b.on("typing", (id, userIds) => id === conversationId && shown.push(userIds));

    for (let i = 0; i < 5; i += 1) a.typing(conversationId);
    await holds(() => shown.length === 2, "the indicator to come and go");

    expect(shown).to.deep.equal([[alice.uid], []]);
    expect(wire.map((t) => t.isTyping)).to.deep.equal([true, false]);
  });

  it("typing: sending the message ends the indicator at once", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice, { typing: { idleMs: 10_000 } }));
    const b = await started(talowaClient(url, bob));
    const { conversationId } = await a.send({ recipientId: bob.uid, content: "hello" });
    a.typing(conversationId);
    await holds(() => b.typingIn(conversationId).length === 1, "bob to see alice typing");

    await a.send({ conversationId, content: "done typing" });
    await holds(() => b.typingIn(conversationId).length === 0, "the indicator to go");
  });

  it("presence: partners' changes arrive as events; a followed user stays followed across a reconnect", async () => {
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    await a.send({ recipientId: bob.uid, content: "hi" });
    const seen: UserPresence[] = [];
    a.on("presence", (p) => seen.push(p));

    await b.updatePresence({ status: "busy", customStatus: "in a meeting" });
    await holds(() => a.presenceOf(bob.uid)?.status === "busy", "bob busy");
    await a.send({ recipientId: carol.uid, content: "hi carol" }); // only contacts' presence can be followed (issue 12)
    const followed = await a.subscribePresence([carol.uid]);
    a.reconnect();
    await a.ready();
    const c = await started(talowaClient(url, carol));
    await holds(() => a.presenceOf(carol.uid)?.status === "online", "carol online");
    await c.close();
    await holds(() => a.presenceOf(carol.uid)?.status === "offline", "carol offline");

    expect(followed.map((p) => [p.userId, p.status])).to.deep.equal([[carol.uid, "offline"]]);
    expect(a.presenceOf(bob.uid)?.customStatus).to.equal("in a meeting");
    expect(seen.some((p) => p.userId === bob.uid && p.status === "busy")).to.equal(true);
    expect((await a.getPresence([bob.uid, carol.uid])).map((p) => p.status)).to.deep.equal(["busy", "offline"]);
  });

  it("groups: create, message every member, remove one, and a member leaves by itself", async () => {
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const c = await started(talowaClient(url, carol));
    const bobSees = appInbox(b);
    const carolSees = appInbox(c);

    const group = await a.createGroup({ name: "Flood watch", memberIds: [bob.uid, carol.uid] });
    await holds(() => b.conversation(group.id) !== undefined && c.conversation(group.id) !== undefined, "members to learn the group");
    await a.send({ conversationId: group.id, content: "water is rising" });
    await holds(() => bobSees.length === 1 && carolSees.length === 1, "both members to get it");
    await a.removeMembers(group.id, [carol.uid]);
    await holds(() => c.conversation(group.id) === undefined, "carol to lose the group");
    await b.removeMembers(group.id, [bob.uid]);

    expect(group.members.sort()).to.deep.equal([alice.uid, bob.uid, carol.uid].sort());
    expect(carolSees.map((m) => m.content)).to.deep.equal(["water is rising"]);
    expect(b.conversation(group.id)).to.equal(undefined);
    await holds(() => a.conversation(group.id)?.members.length === 1, "alice to see bob leave");
  });

  it("people: find a user by email to start a direct chat, and show display names", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));

    const found = await a.findUser(bob.email.toUpperCase());
    const missing = await a.findUser("nobody@talowa.test").catch((e: TalowaError) => e);
    const profiles = await a.getProfiles([bob.uid, alice.uid]);

    expect(found).to.deep.equal({ uid: bob.uid, displayName: "bob" });
    expect((missing as TalowaError).code).to.equal("NOT_FOUND");
    expect(profiles.sort((x, y) => (x.displayName ?? "").localeCompare(y.displayName ?? ""))).to.deep.equal([
      { uid: alice.uid, displayName: "alice" },
      { uid: bob.uid, displayName: "bob" },
    ]);
  });

  it("emergency broadcasts: each id is shown once, even when the gateway sends it twice", async () => {
    const alice = await createUser({ name: "alice" });
    const { url, gateway } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const shown: string[] = [];
    a.on("emergency", (b) => shown.push(b.id));
    const broadcast = { id: "b-1", title: "Flood warning", body: "Move to higher ground.", priority: "critical" as const, senderId: "admin", createdAt: Date.now() };

    void gateway.deliverBroadcast(broadcast);
    void gateway.deliverBroadcast(broadcast);
    void gateway.deliverBroadcast({ ...broadcast, id: "b-2" });
    await holds(() => shown.length === 2, "two broadcasts");
    await settle(200);

    expect(shown).to.deep.equal(["b-1", "b-2"]);
  });

  it("replies and blocking through the client: a reply carries its original; a send across a block is refused at once, not retried", async () => {
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url } = await startGateway();
    const a = await started(talowaClient(url, alice));
    const b = await started(talowaClient(url, bob));
    const bobSees = appInbox(b);
    const question = await a.send({ recipientId: bob.uid, content: "are you at the shelter?" });
    await holds(() => bobSees.length === 1, "the question");
    await b.send({ conversationId: question.conversationId, content: "yes", replyToId: question.messageId });
    await holds(() => bobSees.length === 2, "bob's own reply");

    await b.blockUser(alice.uid);
    const refused = await a.send({ conversationId: question.conversationId, content: "hello?" }).catch((e: TalowaError) => e);

    expect(bobSees[1].replyTo).to.include({ id: question.messageId, preview: "are you at the shelter?" });
    expect(await b.listBlocked()).to.deep.equal([alice.uid]);
    expect((refused as TalowaError).code).to.equal("PERMISSION_DENIED");
    expect(a.pendingSends()).to.deep.equal([]);
  });

  it("consent and privacy (issue 12): an invitation arrives as an event, accepting it adds the group; presence privacy is set and read", async () => {
    const [alice, carol] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "carol" })]);
    const { url } = await startGateway({ consentGroupAdds: "contacts" });
    const a = await started(talowaClient(url, alice));
    const c = await started(talowaClient(url, carol));
    const invitations: GroupInvitation[] = [];
    c.on("invitation", (invitation) => invitations.push(invitation));

    const group = await a.createGroup({ name: "field team", memberIds: [carol.uid] });
    await holds(() => invitations.length === 1, "carol's invitation");
    expect((await c.listInvitations()).map((i) => i.conversationId)).to.deep.equal([group.id]);
    await c.acceptInvitation(group.id);

    expect(c.conversations.map((conv) => conv.id)).to.include(group.id);
    expect(await c.setPresencePrivacy({ lastSeen: "nobody" })).to.deep.equal({ lastSeen: "nobody", customStatus: "everyone" });
    expect(await c.setPresencePrivacy()).to.deep.equal({ lastSeen: "nobody", customStatus: "everyone" });
  });
});

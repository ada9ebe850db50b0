import { expect } from "chai";
import type { ChatMessage, GroupInvitation } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { nextEvent } from "./support/gateway";
import { call, callOk, collect, send, sendOk } from "./support/messaging";
import { arrived, settle } from "./support/wait";

type Group = { conversation: { id: string; members: string[] }; invited: string[] };
const contactsOnly = { consentGroupAdds: "contacts" as const };

/** Issue 12 (3): consent, who may message you first and add you to a group; history from the join. */
describe("consent", () => {
  it("turns an add by a non-contact into an invitation the invitee accepts (then it is a member) or declines", async () => {
    const { connect, users: [alice, bob, carol, dave] } = await gatewayWith(["alice", "bob", "carol", "dave"], contactsOnly);
    const [a, b, c, d] = await connect(alice, bob, carol, dave);
    await sendOk(a.socket, { recipientId: bob.uid, content: "hi bob" });
    const carolInvited = nextEvent<GroupInvitation>(c.socket, "group_invitation");

    const group = await callOk<Group>(a.socket, "create_group", { name: "clinic", memberIds: [bob.uid, carol.uid, dave.uid] });
    expect(group.conversation.members).to.have.members([alice.uid, bob.uid]);
    expect(group.invited).to.have.members([carol.uid, dave.uid]);
    expect(await carolInvited).to.include({ conversationId: group.conversation.id, invitedBy: alice.uid, name: "clinic" });
    const listed = await callOk<{ invitations: GroupInvitation[] }>(c.socket, "list_invitations", {});
    expect(listed.invitations.map((i) => i.conversationId)).to.deep.equal([group.conversation.id]);
    expectError(await call(c.socket, "fetch_history", { conversationId: group.conversation.id }), "NOT_FOUND");

    const accepted = await callOk<Group>(c.socket, "accept_invitation", { conversationId: group.conversation.id });
    expect(accepted.conversation.members).to.include(carol.uid);
    await callOk(d.socket, "decline_invitation", { conversationId: group.conversation.id });
    const carolGets = collect<ChatMessage>(c.socket);
    await sendOk(a.socket, { conversationId: group.conversation.id, content: "welcome" });
    expect((await arrived(carolGets, 1))[0].content).to.equal("welcome");
    expect((await callOk<{ invitations: unknown[] }>(d.socket, "list_invitations", {})).invitations).to.deep.equal([]);
    expectError(await call(d.socket, "accept_invitation", { conversationId: group.conversation.id }), "NOT_FOUND");
    expectError(await send(d.socket, { conversationId: group.conversation.id, content: "let me in" }), "NOT_FOUND");
    void b;
  });

  it("cannot force groups on a victim: it stays in none of them, with invitations instead; add_members of a stranger invites too", async () => {
    const { connect, users: [abuser, victim] } = await gatewayWith(["abuser", "victim"], contactsOnly);
    const [a, v] = await connect(abuser, victim);
    const groups: Group[] = [];
    for (let i = 0; i < 3; i += 1) groups.push(await callOk<Group>(a.socket, "create_group", { name: `spam ${i}`, memberIds: [victim.uid] }));
    const empty = await callOk<Group>(a.socket, "create_group", { name: "empty", memberIds: [] });
    const added = await callOk<Group>(a.socket, "add_members", { conversationId: empty.conversation.id, memberIds: [victim.uid] });

    expect(groups.every((g) => g.invited.includes(victim.uid) && !g.conversation.members.includes(victim.uid))).to.equal(true);
    expect(added.invited).to.deep.equal([victim.uid]);
    expect(added.conversation.members).to.deep.equal([abuser.uid]);
    expect((await callOk<{ conversations: unknown[] }>(v.socket, "list_conversations", {})).conversations).to.deep.equal([]);
    expect((await callOk<{ invitations: unknown[] }>(v.socket, "list_invitations", {})).invitations).to.have.length(4);
  });

  it("add_members of a contact and a stranger adds the contact only; the invited stranger receives none of the group's messages", async () => {
    const { connect, users: [alice, friend, stranger] } = await gatewayWith(["alice", "friend", "stranger"], contactsOnly);
    const [a, f, s] = await connect(alice, friend, stranger);
    await sendOk(a.socket, { recipientId: friend.uid, content: "hi" });
    const group = await callOk<Group>(a.socket, "create_group", { name: "later", memberIds: [] });
    const added = await callOk<Group>(a.socket, "add_members", { conversationId: group.conversation.id, memberIds: [friend.uid, stranger.uid] });
    expect(added.conversation.members).to.have.members([alice.uid, friend.uid]);
    expect(added.invited).to.deep.equal([stranger.uid]);

    const strangerGot = collect<ChatMessage>(s.socket);
    const friendGot = collect<ChatMessage>(f.socket);
    await sendOk(a.socket, { conversationId: group.conversation.id, content: "members only" });
    await arrived(friendGot, 1);
    await settle(300);
    expect(strangerGot).to.deep.equal([]);
  });

  it("composes with blocking: a user who blocked the adder is refused (PERMISSION_DENIED), not invited", async () => {
    const { connect, users: [abuser, victim] } = await gatewayWith(["abuser", "victim"], contactsOnly);
    const [a, v] = await connect(abuser, victim);
    await callOk(v.socket, "block_user", { userId: abuser.uid });
    expectError(await call(a.socket, "create_group", { name: "again", memberIds: [victim.uid] }), "PERMISSION_DENIED");
    expect((await callOk<{ invitations: unknown[] }>(v.socket, "list_invitations", {})).invitations).to.deep.equal([]);
  });

  it("with CONSENT_DIRECT_MESSAGES=shared_group, only people sharing a group may message first; replies are free", async () => {
    const { connect, users: [stranger, neighbour, target] } = await gatewayWith(["stranger", "neighbour", "target"], { consentDirectMessages: "shared_group", consentGroupAdds: "anyone" });
    const [s, n, t] = await connect(stranger, neighbour, target);
    const refused = expectError(await send(s.socket, { recipientId: target.uid, content: "hello?" }), "PERMISSION_DENIED");
    expect(refused.reason).to.equal("CONSENT");
    await callOk(n.socket, "create_group", { name: "street", memberIds: [target.uid] });
    const first = await sendOk(n.socket, { recipientId: target.uid, content: "hi neighbour" });
    const reply = await sendOk(t.socket, { recipientId: neighbour.uid, content: "hi back" });
    expect(reply.conversationId).to.equal(first.conversationId);
    void s;
  });

  it("members added later read history from their join by default; a group created with historyVisibility all shows them everything", async () => {
    const { connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"], contactsOnly);
    const [a, , c] = await connect(alice, bob, carol);
    await sendOk(a.socket, { recipientId: carol.uid, content: "hi carol" });
    const joined = await callOk<Group>(a.socket, "create_group", { name: "from join", memberIds: [bob.uid] });
    const all = await callOk<Group>(a.socket, "create_group", { name: "all of it", memberIds: [bob.uid], historyVisibility: "all" });
    for (const g of [joined, all]) for (const content of ["old 1", "old 2"]) await sendOk(a.socket, { conversationId: g.conversation.id, content });
    for (const g of [joined, all]) await callOk(a.socket, "add_members", { conversationId: g.conversation.id, memberIds: [carol.uid] });
    for (const g of [joined, all]) await sendOk(a.socket, { conversationId: g.conversation.id, content: "new" });

    const history = async (g: Group, query = {}) => (await callOk<{ messages: ChatMessage[] }>(c.socket, "fetch_history", { conversationId: g.conversation.id, ...query })).messages.map((m) => m.content);
    expect(await history(joined)).to.deep.equal(["new"]);
    expect(await history(joined, { afterSeq: 0 })).to.deep.equal(["new"]);
    expect(await history(joined, { beforeSeq: 3 })).to.deep.equal([]);
    expect(await history(all)).to.deep.equal(["old 1", "old 2", "new"]);
  });
});

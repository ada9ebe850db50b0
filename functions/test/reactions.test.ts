import { expect } from "chai";
import type { ChatMessage, ConversationEventResult, ConversationSummary, ReactionResult, ReactionUpdatedPayload } from "../src/protocol";
import type { ClientSocket } from "./support/gateway";
import { connectAs, startGateway } from "./support/gateway";
import { gatewayWith, recordingClient } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { arrived, eventually, settle } from "./support/wait";
import { expectError } from "./support/expect-error";
import { createUsers } from "./support/users";

const group = async (socket: ClientSocket, memberIds: string[]) =>
  (await callOk<{ conversation: ConversationSummary }>(socket, "create_group", { name: "g", memberIds })).conversation;

const history = async (socket: ClientSocket, conversationId: string) =>
  (await callOk<{ messages: ChatMessage[] }>(socket, "fetch_history", { conversationId })).messages;

const react = (socket: ClientSocket, conversationId: string, messageId: string, emoji: string, event = "add_reaction") =>
  callOk<ReactionResult>(socket, event, { conversationId, messageId, emoji });

describe("reactions", () => {
  it("a reaction reaches every device of every member, not an outsider", async () => {
    const { url, connect, users: [alice, bob, outsider] } = await gatewayWith(["alice", "bob", "outsider"]);
    const [a1, b, o] = await connect(alice, bob, outsider);
    const a2 = await connectAs(url, alice.idToken);
    const b2 = await connectAs(url, bob.idToken);
    await sendOk(o.socket, { recipientId: alice.uid, content: "alice knows me" });
    const conversation = await group(a1.socket, [bob.uid]);
    const sent = await sendOk(a1.socket, { conversationId: conversation.id, content: "vote" });
    const seen = [a1, a2, b2, o].map((c) => collect<ReactionUpdatedPayload>(c.socket, "reaction_updated"));

    const answer = await react(b.socket, conversation.id, sent.messageId, "👍🏽");
    await Promise.all(seen.slice(0, 3).map((list) => arrived(list, 1)));
    await settle();

    expect(answer).to.include({ count: 1, changed: true, emoji: "👍🏽" });
    const expected = { conversationId: conversation.id, messageId: sent.messageId, emoji: "👍🏽", count: 1, userId: bob.uid, added: true };
    for (const list of seen.slice(0, 3)) expect(list).to.deep.equal([expected]);
    expect(seen[3], "the outsider").to.deep.equal([]);
  });

  it("history carries counts and the reader's own flag; one per value per user; removing lowers the count", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const conversation = await group(a.socket, [bob.uid]);
    const sent = await sendOk(a.socket, { conversationId: conversation.id, content: "party" });
    const plain = await sendOk(a.socket, { conversationId: conversation.id, content: "nobody reacts" });

    await react(a.socket, conversation.id, sent.messageId, "🎉");
    await react(b.socket, conversation.id, sent.messageId, "🎉");
    const again = await react(b.socket, conversation.id, sent.messageId, "🎉");
    await react(b.socket, conversation.id, sent.messageId, "❤️");
    await react(b.socket, conversation.id, sent.messageId, "👀");
    const removed = await react(b.socket, conversation.id, sent.messageId, "👀", "remove_reaction");
    const absent = await react(a.socket, conversation.id, sent.messageId, "👀", "remove_reaction");

    expect(again).to.include({ count: 2, changed: false });
    expect(removed).to.include({ count: 0, changed: true });
    expect(absent).to.include({ count: 0, changed: false });
    const byBob = await history(b.socket, conversation.id);
    const byAlice = await history(a.socket, conversation.id);
    expect(byBob[0].reactions).to.have.deep.members([{ emoji: "🎉", count: 2, me: true }, { emoji: "❤️", count: 1, me: true }]);
    expect(byAlice[0].reactions).to.have.deep.members([{ emoji: "🎉", count: 2, me: true }, { emoji: "❤️", count: 1, me: false }]);
    expect(byAlice[1].id).to.equal(plain.messageId);
    expect(byAlice[1]).to.not.have.property("reactions");
    expect(byAlice[0]).to.not.have.property("reactionCounts");
  });

  it("an offline member's queued copy carries the current reactions", async () => {
    const { url, connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"]);
    const [a, b] = await connect(alice, bob);
    const conversation = await group(a.socket, [bob.uid, carol.uid]);
    const sent = await sendOk(a.socket, { conversationId: conversation.id, content: "while you were away" });

    await react(b.socket, conversation.id, sent.messageId, "😮");
    await react(a.socket, conversation.id, sent.messageId, "😮");
    await react(a.socket, conversation.id, sent.messageId, "👍");
    await react(a.socket, conversation.id, sent.messageId, "👍", "remove_reaction");
    const { received } = recordingClient(url, carol);
    await arrived(received, 1);

    expect(received[0]).to.include({ id: sent.messageId, content: "while you were away" });
    expect(received[0].reactions).to.deep.equal([{ emoji: "😮", count: 2, me: false }]);
  });

  it("refuses outsiders, bad values, events, deleted messages and values past the cap; rule `reaction` is shared", async () => {
    const { connect, users: [alice, bob, outsider] } = await gatewayWith(["alice", "bob", "outsider"], {
      maxReactionsPerMessage: 2,
      rateLimits: { reaction: { limit: 8, windowMs: 60_000 } },
    });
    const [a, , o] = await connect(alice, bob, outsider);
    const conversation = await group(a.socket, [bob.uid]);
    const sent = await sendOk(a.socket, { conversationId: conversation.id, content: "x" });
    const doomed = await sendOk(a.socket, { conversationId: conversation.id, content: "y" });
    const removal = await callOk<ConversationEventResult>(a.socket, "delete_message", { conversationId: conversation.id, messageId: doomed.messageId });
    const ref = (messageId: string, emoji: unknown) => ({ conversationId: conversation.id, messageId, emoji });

    expectError(await call(o.socket, "add_reaction", ref(sent.messageId, "👍")), "NOT_FOUND", "an outsider");
    expectError(await call(a.socket, "add_reaction", ref(sent.messageId, "")), "INVALID_ARGUMENT", "empty");
    expectError(await call(a.socket, "add_reaction", ref(sent.messageId, "  ")), "INVALID_ARGUMENT", "blank");
    expectError(await call(a.socket, "add_reaction", ref(sent.messageId, "x".repeat(33))), "INVALID_ARGUMENT", "too long");
    expectError(await call(a.socket, "add_reaction", ref(sent.messageId, 7)), "INVALID_ARGUMENT", "not a string");
    expectError(await call(a.socket, "add_reaction", ref("m_nothing", "👍")), "NOT_FOUND", "no such message");
    expectError(await call(a.socket, "add_reaction", ref(removal.eventId, "👍")), "NOT_FOUND", "an event");
    expectError(await call(a.socket, "add_reaction", ref(doomed.messageId, "👍")), "INVALID_ARGUMENT", "a deleted message");
    await react(a.socket, conversation.id, sent.messageId, "👍");
    await react(a.socket, conversation.id, sent.messageId, "👨‍👩‍👧‍👦");
    expectError(await call(a.socket, "add_reaction", ref(sent.messageId, "🔥")), "INVALID_ARGUMENT", "past the cap");
    await react(a.socket, conversation.id, sent.messageId, "👍", "remove_reaction");
    await react(a.socket, conversation.id, sent.messageId, "🔥");
    const limited = expectError(await call(a.socket, "remove_reaction", ref(sent.messageId, "🔥")), "RATE_LIMITED", "9th counted call of the rule");
    expect(limited.retryAfterMs).to.be.a("number");
  });

  it("reactions from two gateway instances at once count right (a user's two devices count once) and reach members on both", async () => {
    const users = await createUsers("alice", "bob", "carol", "dave");
    const one = await startGateway();
    const two = await startGateway();
    const sockets = await Promise.all(users.map((u, i) => connectAs((i % 2 === 0 ? one : two).url, u.idToken)));
    const conversation = await group(sockets[0].socket, users.slice(1).map((u) => u.uid));
    await settle(100); // room subscriptions reach Redis
    const sent = await sendOk(sockets[0].socket, { conversationId: conversation.id, content: "count us" });
    const seenByAlice = collect<ReactionUpdatedPayload>(sockets[0].socket, "reaction_updated");
    const seenByBob = collect<ReactionUpdatedPayload>(sockets[1].socket, "reaction_updated");

    const aliceAgain = await connectAs(two.url, users[0].idToken);
    const answers = await Promise.all([...sockets, aliceAgain].map((s) => react(s.socket, conversation.id, sent.messageId, "🙌")));
    await arrived(seenByBob, 3);
    await eventually(() => seenByAlice.filter((u) => u.userId !== users[0].uid), { accept: (l) => l.length >= 3, what: "3 reactions of others" });
    await settle();

    expect(seenByAlice.filter((u) => u.userId !== users[0].uid).map((u) => u.userId)).to.have.members(users.slice(1).map((u) => u.uid));
    expect(seenByBob.map((u) => u.userId)).to.have.members([users[0].uid, users[2].uid, users[3].uid]);
    expect(Math.max(...seenByBob.map((u) => u.count))).to.be.at.most(4);
    expect(answers.filter((x) => x.changed)).to.have.length(4);
    expect((await history(sockets[3].socket, conversation.id))[0].reactions).to.deep.equal([{ emoji: "🙌", count: 4, me: true }]);
  });
});

import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { ChatMessage, ConversationEventResult, ConversationSummary, UserPresence } from "../src/protocol";
import type { ClientSocket } from "./support/gateway";
import { connectAs, startGateway } from "./support/gateway";
import { gatewayWith, recordingClient } from "./support/fixture";
import { call, callOk, collect, sendOk } from "./support/messaging";
import { arrived, eventually, settle } from "./support/wait";
import { expectError } from "./support/expect-error";
import { createUsers } from "./support/users";

const group = async (socket: ClientSocket, memberIds: string[]) =>
  (await callOk<{ conversation: ConversationSummary }>(socket, "create_group", { name: "g", memberIds })).conversation;

const history = async (socket: ClientSocket, conversationId: string, afterSeq?: number) =>
  (await callOk<{ messages: ChatMessage[] }>(socket, "fetch_history", { conversationId, afterSeq })).messages;

/** Waits until `watcher` sees `uid` offline (a clean disconnect is offline at once, asynchronously). */
async function offline(watcher: ClientSocket, uid: string): Promise<void> {
  await eventually(async () => (await callOk<{ presence: UserPresence[] }>(watcher, "get_presence", { userIds: [uid] })).presence[0].status, {
    accept: (status) => status === "offline",
    what: `${uid} offline`,
  });
}

async function queueCopiesOf(messageId: string) {
  const snapshot = await firestore().collection("offline_queue").where("messageId", "==", messageId).get();
  return snapshot.docs.map((d) => d.get("message") as ChatMessage);
}

describe("edit and delete (sequenced conversation events)", () => {
  it("an edit reaches online members live and an offline member in order on reconnect; history shows the edited message and the event", async () => {
    const { url, connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"]);
    const [a, b, c] = await connect(alice, bob, carol);
    const conversation = await group(a.socket, [bob.uid, carol.uid]);
    const carolInbox = collect(c.socket);
    const first = await sendOk(a.socket, { conversationId: conversation.id, content: "helo" });
    await arrived(carolInbox, 1);
    b.socket.disconnect();
    await offline(a.socket, bob.uid);

    const second = await sendOk(a.socket, { conversationId: conversation.id, content: "second" });
    const edit = await callOk<ConversationEventResult>(a.socket, "edit_message", { conversationId: conversation.id, messageId: first.messageId, content: "hello" });
    const { received: bobAgain } = recordingClient(url, bob);
    await arrived(bobAgain, 2);
    await arrived(carolInbox, 3);
    await settle();

    expect(edit).to.include({ conversationId: conversation.id, targetId: first.messageId });
    expect(edit.seq).to.be.greaterThan(second.seq);
    for (const inbox of [bobAgain, carolInbox.slice(1)]) {
      expect(inbox.map((m) => [m.seq, m.type])).to.deep.equal([[second.seq, "text"], [edit.seq, "edit"]]);
      expect(inbox[1]).to.include({ id: edit.eventId, targetId: first.messageId, content: "hello", senderId: alice.uid });
    }
    const stored = await history(a.socket, conversation.id);
    expect(stored.map((m) => m.type)).to.deep.equal(["text", "text", "edit"]);
    expect(stored[0]).to.include({ id: first.messageId, content: "hello" });
    expect(stored[0].editedAt).to.be.a("number");
    expect((await history(a.socket, conversation.id, second.seq)).map((m) => m.id)).to.deep.equal([edit.eventId]);
  });

  it("a deleted message's content is gone from history and from the offline queue; a tombstone keeps its place", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);
    const doomed = await sendOk(a.socket, { recipientId: bob.uid, content: "regret this", metadata: { note: "x" } });
    const kept = await sendOk(a.socket, { recipientId: bob.uid, content: "keep this", replyToId: doomed.messageId });

    const removal = await callOk<ConversationEventResult>(a.socket, "delete_message", { conversationId: doomed.conversationId, messageId: doomed.messageId });
    const { socket: bobSocket, received } = recordingClient(url, bob);
    await arrived(received, 3);
    await settle();

    expect(received.map((m) => [m.seq, m.type])).to.deep.equal([[doomed.seq, "text"], [kept.seq, "text"], [removal.seq, "delete"]]);
    expect(received[0]).to.include({ id: doomed.messageId, content: "", deleted: true });
    expect(received[0].metadata).to.deep.equal({});
    expect(received[2]).to.include({ type: "delete", targetId: doomed.messageId, content: "" });
    expect(JSON.stringify(received)).to.not.include("regret");
    const stored = await history(bobSocket, doomed.conversationId);
    expect(stored.map((m) => m.id)).to.deep.equal([doomed.messageId, kept.messageId, removal.eventId]);
    expect(stored[0]).to.include({ deleted: true, content: "" });
    expect(stored[0].deletedAt).to.be.a("number");
    expect(JSON.stringify(await queueCopiesOf(doomed.messageId))).to.not.include("regret");
    // A reply keeps pointing at the deleted message, without its preview (live copies, history and queue).
    expect(stored[1].replyTo).to.deep.equal({ id: doomed.messageId, senderId: alice.uid, type: "text", preview: null, deleted: true });
    expect(received[1].replyTo).to.deep.equal(stored[1].replyTo);
  });

  it("only the sender edits; the sender, group admins and moderators delete; others get PERMISSION_DENIED", async () => {
    const { connect, users: [alice, bob, carol, mod] } = await gatewayWith(["alice", "bob", "carol", { name: "mod", claims: { role: "admin" } }]);
    const [a, b, c, m] = await connect(alice, bob, carol, mod);
    const conversation = await group(a.socket, [bob.uid, carol.uid, mod.uid]);
    const bobs = await sendOk(b.socket, { conversationId: conversation.id, content: "bob's" });
    const bobs2 = await sendOk(b.socket, { conversationId: conversation.id, content: "bob's too" });
    const carols = await sendOk(c.socket, { conversationId: conversation.id, content: "carol's" });
    const ref = (messageId: string) => ({ conversationId: conversation.id, messageId });

    expectError(await call(c.socket, "edit_message", { ...ref(bobs.messageId), content: "hijack" }), "PERMISSION_DENIED", "another member edits");
    expectError(await call(a.socket, "edit_message", { ...ref(bobs.messageId), content: "hijack" }), "PERMISSION_DENIED", "the admin edits");
    expectError(await call(c.socket, "delete_message", ref(bobs.messageId)), "PERMISSION_DENIED", "another member deletes");
    expectError(await call(b.socket, "delete_message", { conversationId: conversation.id, messageId: "m_nothing" }), "NOT_FOUND", "no such message");
    expectError(await call(b.socket, "delete_message", { messageId: bobs.messageId }), "INVALID_ARGUMENT", "no conversationId");
    await callOk(a.socket, "delete_message", ref(bobs.messageId));
    await callOk(m.socket, "delete_message", ref(carols.messageId));
    await callOk(b.socket, "delete_message", ref(bobs2.messageId));
    expectError(await call(b.socket, "edit_message", { ...ref(bobs.messageId), content: "undo" }), "INVALID_ARGUMENT", "edit a deleted message");

    const stored = await history(c.socket, conversation.id);
    expect(stored.filter((x) => x.deleted).map((x) => x.id)).to.have.members([bobs.messageId, bobs2.messageId, carols.messageId]);
  });

  it("edits are refused past MESSAGE_EDIT_WINDOW and for messages that are not text", async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { messageEditWindowSeconds: 60 }, { clock });
    const [a] = await connect(alice, bob);
    const text = await sendOk(a.socket, { recipientId: bob.uid, content: "typo" });
    const image = await sendOk(a.socket, { recipientId: bob.uid, type: "image", content: "https://img" });
    const ref = (messageId: string) => ({ conversationId: text.conversationId, messageId });

    expectError(await call(a.socket, "edit_message", { ...ref(image.messageId), content: "x" }), "INVALID_ARGUMENT", "an image");
    await callOk(a.socket, "edit_message", { ...ref(text.messageId), content: "fixed" });
    offset = 61_000;
    expectError(await call(a.socket, "edit_message", { ...ref(text.messageId), content: "too late" }), "PERMISSION_DENIED", "past the window");
    await callOk(a.socket, "delete_message", ref(text.messageId));
  });

  it("the anonymous sender edits and deletes its message anonymously; moderation keeps the original", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const conversation = await group(a.socket, [bob.uid]);
    const inbox = collect(b.socket);
    const secret = await sendOk(b.socket, { conversationId: conversation.id, content: "whistle", isAnonymous: true });

    expectError(await call(a.socket, "edit_message", { conversationId: conversation.id, messageId: secret.messageId, content: "x" }), "PERMISSION_DENIED");
    await callOk(b.socket, "edit_message", { conversationId: conversation.id, messageId: secret.messageId, content: "whistle!" });
    await callOk(b.socket, "delete_message", { conversationId: conversation.id, messageId: secret.messageId });
    const events = (await history(a.socket, conversation.id)).slice(1);

    expect(events.map((e) => [e.type, e.senderId, e.isAnonymous])).to.deep.equal([["edit", null, true], ["delete", null, true]]);
    expect(JSON.stringify(events)).to.not.include(bob.uid);
    const moderation = (await firestore().collection("message_moderation").doc(secret.messageId).get()).data();
    expect(moderation).to.include({ senderId: bob.uid, originalContent: "whistle", deletedBy: bob.uid });
    expect(inbox, "the sender's own socket gets acks, not copies").to.have.length(0);
  });

  it("a deletion on one instance reaches a member connected to another, live", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const one = await startGateway();
    const two = await startGateway();
    const a = await connectAs(one.url, alice.idToken);
    const b = await connectAs(two.url, bob.idToken);
    const conversation = await group(a.socket, [bob.uid]);
    await settle(100); // bob's room subscription reaches Redis
    const inbox = collect(b.socket);
    const sent = await sendOk(a.socket, { conversationId: conversation.id, content: "oops" });
    await arrived(inbox, 1);

    const removal = await callOk<ConversationEventResult>(a.socket, "delete_message", { conversationId: conversation.id, messageId: sent.messageId });
    await arrived(inbox, 2);

    expect(inbox[1]).to.include({ id: removal.eventId, type: "delete", targetId: sent.messageId, seq: removal.seq });
    expect((await history(b.socket, conversation.id))[0]).to.include({ id: sent.messageId, deleted: true, content: "" });
  });

  it("across a block, editing and reacting in the direct conversation are refused with PERMISSION_DENIED; deleting one's own message is not", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const fromBob = await sendOk(b.socket, { recipientId: alice.uid, content: "hi" });
    const fromAlice = await sendOk(a.socket, { recipientId: bob.uid, content: "hello" });
    await callOk(a.socket, "block_user", { userId: bob.uid });
    const conversationId = fromBob.conversationId;

    expectError(await call(b.socket, "edit_message", { conversationId, messageId: fromBob.messageId, content: "hi!" }), "PERMISSION_DENIED", "blocked edits");
    expectError(await call(b.socket, "add_reaction", { conversationId, messageId: fromAlice.messageId, emoji: "👍" }), "PERMISSION_DENIED", "blocked reacts");
    expectError(await call(a.socket, "add_reaction", { conversationId, messageId: fromBob.messageId, emoji: "👍" }), "PERMISSION_DENIED", "the blocker reacts");
    await callOk(b.socket, "delete_message", { conversationId, messageId: fromBob.messageId });
  });
});

import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { ChatMessage, ConversationSummary } from "../src/protocol";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, collect, newClientId, send, sendOk } from "./support/messaging";
import { createUsers } from "./support/users";
import { arrived, settle } from "./support/wait";

describe("direct messages", () => {
  it("reach every online device of the recipient and the sender's other devices, not the sending socket", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [aliceSender, aliceTablet, bobPhone] = await connect(alice, alice, bob);
    const bobLaptop = await connectAs(url, bob.idToken, { transports: ["polling"] });
    const inbox = {
      sender: collect(aliceSender.socket),
      tablet: collect(aliceTablet.socket),
      phone: collect(bobPhone.socket),
      laptop: collect(bobLaptop.socket),
    };

    const ack = await sendOk(aliceSender.socket, { recipientId: bob.uid, content: "hi bob" });

    expect(ack).to.include({ ok: true, status: "sent", seq: 1, duplicate: false });
    for (const device of [inbox.phone, inbox.laptop, inbox.tablet]) {
      const [message] = await arrived(device, 1);
      expect(message).to.include({ id: ack.messageId, seq: 1, senderId: alice.uid, content: "hi bob", type: "text" });
      expect(message.conversationId).to.equal(ack.conversationId);
    }
    await settle();
    expect(inbox.sender).to.have.length(0);
  });

  it("stores the message in Firestore before acknowledging it", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [{ socket }] = await connect(alice);

    const ack = await sendOk(socket, { recipientId: bob.uid, content: "stored?", metadata: { replyTo: null } });

    const doc = await firestore().collection("conversations").doc(ack.conversationId).collection("messages").doc(ack.messageId).get();
    expect(doc.exists).to.equal(true);
    expect(doc.data()).to.include({ content: "stored?", seq: 1, senderId: alice.uid, conversationId: ack.conversationId });
    const conversation = await firestore().collection("conversations").doc(ack.conversationId).get();
    expect(conversation.get("members")).to.have.members([alice.uid, bob.uid]);
    expect(conversation.get("type")).to.equal("direct");
  });

  it("numbers a conversation's messages in order and delivers them in that order", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const received = collect(b.socket);

    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => sendOk(a.socket, { recipientId: bob.uid, content: `m${i}` })));
    await sendOk(b.socket, { recipientId: alice.uid, content: "reply" });

    expect(acks.map((x) => x.seq).sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const seqs = (await arrived(received, 10)).map((m) => m.seq);
    expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
  });

  it("tells the recipient's devices about a new conversation", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const updates = collect<ConversationSummary>(b.socket, "conversation_updated");

    const ack = await sendOk(a.socket, { recipientId: bob.uid });

    const [conversation] = await arrived(updates, 1);
    expect(conversation).to.include({ id: ack.conversationId, type: "direct" });
  });
});

describe("conversations and presence", () => {
  it("members of a conversation made after they connected see each other's presence at once", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const bobSees = collect<{ userId: string; status: string }>(b.socket, "presence_update");
    await sendOk(a.socket, { recipientId: bob.uid, content: "first message" });
    await settle(200);

    await callOk(a.socket, "update_presence", { status: "busy" });

    const [introduced, update] = await arrived(bobSees, 2);
    expect(introduced).to.include({ userId: alice.uid, status: "online" }); // told when the conversation began
    expect(update).to.include({ userId: alice.uid, status: "busy" });
  });
});

describe("idempotent sends", () => {
  it("a resend with the same clientId is the same message, delivered once", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const received = collect(b.socket);
    const clientId = newClientId();

    const first = await sendOk(a.socket, { recipientId: bob.uid, clientId, content: "once" });
    const again = await sendOk(a.socket, { recipientId: bob.uid, clientId, content: "once" });

    expect(again).to.include({ messageId: first.messageId, seq: first.seq, duplicate: true });
    await arrived(received, 1);
    await settle();
    expect(received).to.have.length(1);
  });

  it("recognises a resend that reaches another gateway instance", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const one = await startGateway();
    const two = await startGateway();
    const onOne = await connectAs(one.url, alice.idToken);
    const onTwo = await connectAs(two.url, alice.idToken);
    const bobSocket = await connectAs(two.url, bob.idToken);
    const received = collect(bobSocket.socket);
    const clientId = newClientId();

    const first = await sendOk(onOne.socket, { recipientId: bob.uid, clientId });
    const retried = await sendOk(onTwo.socket, { recipientId: bob.uid, clientId });

    expect(retried).to.include({ messageId: first.messageId, seq: first.seq, duplicate: true });
    await arrived(received, 1);
    await settle();
    expect(received).to.have.length(1);
    const stored = await firestore().collection("conversations").doc(first.conversationId).collection("messages").get();
    expect(stored.size).to.equal(1);
  });
});

describe("group messages", () => {
  it("fan out to every member's devices, and only to members", async () => {
    const { connect, users: [owner, m1, m2, outsider] } = await gatewayWith(["owner", "m1", "m2", "outsider"]);
    const [o, a, b, x] = await connect(owner, m1, m2, outsider);
    const inbox = { m1: collect(a.socket), m2: collect(b.socket), outsider: collect(x.socket) };

    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", {
      name: "Village council",
      memberIds: [m1.uid, m2.uid],
    });
    const ack = await sendOk(o.socket, { conversationId: conversation.id, content: "meeting at 6" });

    expect(conversation).to.include({ type: "group", name: "Village council" });
    expect(conversation.admins).to.deep.equal([owner.uid]);
    for (const list of [inbox.m1, inbox.m2]) expect((await arrived(list, 1))[0]).to.include({ id: ack.messageId, content: "meeting at 6" });
    await settle();
    expect(inbox.outsider).to.have.length(0);
  });

  it("reach members connected to another gateway instance", async () => {
    const [owner, member] = await createUsers("owner", "member");
    const one = await startGateway();
    const two = await startGateway();
    const o = await connectAs(one.url, owner.idToken);
    const m = await connectAs(two.url, member.idToken);
    const received = collect(m.socket);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [member.uid] });
    await settle(200);

    await sendOk(o.socket, { conversationId: conversation.id, content: "across" });

    expect((await arrived(received, 1))[0].content).to.equal("across");
  });

  it("new members receive later messages; removed members stop receiving them", async () => {
    const { connect, users: [owner, early, late] } = await gatewayWith(["owner", "early", "late"]);
    const [o, e, l] = await connect(owner, early, late);
    const inbox = { early: collect(e.socket), late: collect(l.socket) };
    const removed = collect<{ conversationId: string }>(e.socket, "conversation_removed");
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [early.uid] });

    await callOk(o.socket, "add_members", { conversationId: conversation.id, memberIds: [late.uid] });
    await callOk(o.socket, "remove_members", { conversationId: conversation.id, memberIds: [early.uid] });
    await settle(100);
    await sendOk(o.socket, { conversationId: conversation.id, content: "after the change" });

    expect((await arrived(inbox.late, 1))[0].content).to.equal("after the change");
    expect((await arrived(removed, 1))[0].conversationId).to.equal(conversation.id);
    await settle();
    expect(inbox.early).to.have.length(0);
    const refused = await send(e.socket, { conversationId: conversation.id });
    expectError(refused, "NOT_FOUND");
  });

  it("only admins may change members; a member may leave", async () => {
    const { connect, users: [owner, member, other] } = await gatewayWith(["owner", "member", "other"]);
    const [o, m] = await connect(owner, member);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "g", memberIds: [member.uid] });

    const refused = await call(m.socket, "add_members", { conversationId: conversation.id, memberIds: [other.uid] });
    const left = await callOk<{ conversation: ConversationSummary }>(m.socket, "remove_members", { conversationId: conversation.id, memberIds: [member.uid] });

    expectError(refused, "PERMISSION_DENIED");
    expect(left.conversation.members).to.deep.equal([owner.uid]);
  });

  it("announcement groups: only admins and named roles post; creating one needs a role", async () => {
    const { connect, users: [coordinator, member] } = await gatewayWith([{ name: "coord", claims: { role: "coordinator" } }, "member"]);
    const [c, m] = await connect(coordinator, member);

    const memberCreates = await call(m.socket, "create_group", { name: "news", memberIds: [coordinator.uid], announcement: true });
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(c.socket, "create_group", {
      name: "news",
      memberIds: [member.uid],
      announcement: true,
    });
    const memberPosts = await send(m.socket, { conversationId: conversation.id });
    const coordinatorPosts = await send(c.socket, { conversationId: conversation.id });

    expectError(memberCreates, "PERMISSION_DENIED");
    expectError(memberPosts, "PERMISSION_DENIED");
    expect(coordinatorPosts.ok).to.equal(true);
  });

  it("lists the conversations a user belongs to", async () => {
    const { connect, users: [alice, bob, carol] } = await gatewayWith(["alice", "bob", "carol"]);
    const [a] = await connect(alice);
    await sendOk(a.socket, { recipientId: bob.uid });
    await callOk(a.socket, "create_group", { name: "g", memberIds: [bob.uid, carol.uid] });
    const [c] = await connect(carol);

    const { conversations } = await callOk<{ conversations: ConversationSummary[] }>(c.socket, "list_conversations", {});

    expect(conversations.map((x) => x.type)).to.deep.equal(["group"]);
  });
});

describe("anonymous and encrypted messages", () => {
  it("an anonymous message shows recipients no sender; the real sender is kept server-side for moderation", async () => {
    const { connect, users: [coordinator, alice, bob] } = await gatewayWith(["coordinator", "alice", "bob"]);
    const [c, a, b] = await connect(coordinator, alice, bob);
    const received = collect(b.socket);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(c.socket, "create_group", {
      name: "reports",
      memberIds: [alice.uid, bob.uid],
    });

    const ack = await sendOk(a.socket, { conversationId: conversation.id, isAnonymous: true, content: "report: road blocked" });

    const [message] = await arrived(received, 1);
    expect(message.senderId).to.equal(null);
    expect(message.isAnonymous).to.equal(true);
    expect(JSON.stringify(message)).not.to.include(alice.uid);
    const stored = await firestore().collection("conversations").doc(ack.conversationId).collection("messages").doc(ack.messageId).get();
    expect(JSON.stringify(stored.data())).not.to.include(alice.uid);
    const moderation = await firestore().collection("message_moderation").doc(ack.messageId).get();
    expect(moderation.get("senderId")).to.equal(alice.uid);
  });

  it("is refused in a direct conversation, whose id names both members", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);

    const answer = await send(a.socket, { recipientId: bob.uid, isAnonymous: true });

    expectError(answer, "INVALID_ARGUMENT");
  });

  it("high-encryption content is stored and routed as the client sent it", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a, b] = await connect(alice, bob);
    const received = collect<ChatMessage>(b.socket);
    const ciphertext = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)).toString("base64");

    const ack = await sendOk(a.socket, { recipientId: bob.uid, encryptionLevel: "high", content: ciphertext, metadata: { keyId: "k1" } });

    const [message] = await arrived(received, 1);
    expect(message).to.include({ content: ciphertext, encryptionLevel: "high" });
    const stored = await firestore().collection("conversations").doc(ack.conversationId).collection("messages").doc(ack.messageId).get();
    expect(stored.get("content")).to.equal(ciphertext);
  });
});

describe("history", () => {
  it("pages backwards by sequence number, and forwards from a known one", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);
    let conversationId = "";
    for (let i = 1; i <= 12; i += 1) conversationId = (await sendOk(a.socket, { recipientId: bob.uid, content: `m${i}` })).conversationId;
    const [b] = await connect(bob);
    type Page = { messages: ChatMessage[]; hasMore: boolean };

    const newest = await callOk<Page>(b.socket, "fetch_history", { conversationId, limit: 5 });
    const older = await callOk<Page>(b.socket, "fetch_history", { conversationId, beforeSeq: newest.messages[0].seq, limit: 5 });
    const oldest = await callOk<Page>(b.socket, "fetch_history", { conversationId, beforeSeq: older.messages[0].seq, limit: 5 });
    const resumed = await callOk<Page>(b.socket, "fetch_history", { conversationId, afterSeq: 10 });

    expect(newest.messages.map((m) => m.seq)).to.deep.equal([8, 9, 10, 11, 12]);
    expect(newest.hasMore).to.equal(true);
    expect(older.messages.map((m) => m.seq)).to.deep.equal([3, 4, 5, 6, 7]);
    expect(oldest.messages.map((m) => m.seq)).to.deep.equal([1, 2]);
    expect(oldest.hasMore).to.equal(false);
    expect(resumed.messages.map((m) => m.content)).to.deep.equal(["m11", "m12"]);
  });

  it("is refused to non-members", async () => {
    const { connect, users: [alice, bob, eve] } = await gatewayWith(["alice", "bob", "eve"]);
    const [a] = await connect(alice);
    const { conversationId } = await sendOk(a.socket, { recipientId: bob.uid, content: "private" });
    const [e] = await connect(eve);

    const answer = await call(e.socket, "fetch_history", { conversationId });

    expectError(answer, "NOT_FOUND");
  });
});

import { expect } from "chai";
import { createHash } from "node:crypto";
import { firestore } from "../src/firebase";
import type { ChatMessage, ConversationSummary } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { call, callOk, collect, newClientId, sendOk } from "./support/messaging";
import { arrived as until, settle } from "./support/wait";
import { createUser } from "./support/users";

/** Every string and number in a value, flattened: what an attacker can compare. */
function fieldsOf(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === "object") for (const v of Object.values(value)) fieldsOf(v, out);
  else out.push(String(value));
  return out;
}

/** How issue 11 named the sender: hash each member's uid with every field as a clientId. */
function suspects(members: string[], copy: ChatMessage): string[] {
  const values = fieldsOf(copy);
  const hashes = (uid: string) => values.map((v) => `m_${createHash("sha256").update(`${uid}\u0000${v}`).digest("base64url").slice(0, 27)}`);
  return members.filter((uid) => hashes(uid).includes(copy.id) || values.includes(uid));
}

/**
 * The attacker of issue 11: a member of a group of four receives an anonymous message live, in history,
 * through its offline queue and by reading the Firestore document (as the rules let members) and tries
 * every field to tell which of the other three sent it.
 */
describe("anonymity: a member cannot tell who sent an anonymous message (issue 11)", () => {
  it("live, history, offline queue and the stored document carry nothing that differs by sender", async () => {
    const [owner, alice, bob, mallory] = await Promise.all(["owner", "alice", "bob", "mallory"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const o = await connectAs(url, owner.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "reports", memberIds: [alice.uid, bob.uid, mallory.uid] });
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const m = await connectAs(url, mallory.idToken);
    const live = collect(m.socket);
    const events: unknown[] = [];
    m.socket.onAny((event, payload) => events.push({ event, payload }));
    const members = [owner.uid, alice.uid, bob.uid];

    // Two anonymous messages from different senders, with their own clientIds and clocks; both refuse metadata.
    const fromAlice = await sendOk(a.socket, { conversationId: conversation.id, isAnonymous: true, content: "road blocked", clientId: newClientId(), timestamp: 1_111 });
    const fromBob = await sendOk(b.socket, { conversationId: conversation.id, isAnonymous: true, content: "bridge down", clientId: "bob-device-7", timestamp: 2_222_222 });
    const withMetadata = await call(a.socket, "send_message", { conversationId: conversation.id, isAnonymous: true, type: "text", content: "x", clientId: newClientId(), metadata: { device: "alice-phone" } });
    await until(live, 2);
    await call(m.socket, "mark_read", { conversationId: conversation.id, upToSeq: 2 });
    await settle();

    const history = (await callOk<{ messages: ChatMessage[] }>(m.socket, "fetch_history", { conversationId: conversation.id })).messages;
    m.socket.disconnect();
    await settle();
    const offlineAnon = await sendOk(a.socket, { conversationId: conversation.id, isAnonymous: true, content: "while you were away", clientId: newClientId(), timestamp: 3 });
    const queued = (await firestore().collection("offline_queue").where("recipientId", "==", mallory.uid).get()).docs.map((d) => d.get("message") as ChatMessage);
    const stored = await Promise.all([fromAlice, fromBob, offlineAnon].map(async (ack) => (await firestore().collection("conversations").doc(conversation.id).collection("messages").doc(ack.messageId).get()).data() as ChatMessage));

    expect(withMetadata.ok).to.equal(false);
    const copies = [...live, ...history, ...queued, ...stored];
    expect(copies).to.have.length(2 + 2 + 1 + 3);
    for (const copy of copies) {
      expect(suspects(members, copy), JSON.stringify(copy)).to.deep.equal([]);
      expect(copy).to.include({ senderId: null, clientId: "", clientTimestamp: null, isAnonymous: true });
      expect(copy.metadata).to.deep.equal({});
    }
    // What remains differs by message, not by sender: id, seq, content, createdAt.
    const shape = (c: ChatMessage) => Object.keys(c).sort().join();
    expect(shape(live[0])).to.equal(shape(live[1]));
    expect(shape(stored[0])).to.equal(shape(stored[1]));
    // No other event sent to the attacker while the anonymous messages went out (typing, receipts ...) names a sender.
    const seen = JSON.stringify(events.filter((e) => (e as { event: string }).event !== "new_message"));
    for (const uid of [alice.uid, bob.uid]) expect(seen).not.to.include(uid);
    const moderation = await firestore().collection("message_moderation").doc(fromBob.messageId).get();
    expect(moderation.get("senderId")).to.equal(bob.uid);
  });

  it("a resend with the same clientId is still the same message", async () => {
    const [owner, alice] = await Promise.all(["owner", "alice"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const o = await connectAs(url, owner.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "r", memberIds: [alice.uid] });
    const a = await connectAs(url, alice.idToken);
    const clientId = newClientId();
    const first = await sendOk(a.socket, { conversationId: conversation.id, isAnonymous: true, content: "once", clientId });
    const again = await sendOk(a.socket, { conversationId: conversation.id, isAnonymous: true, content: "once", clientId });
    expect(again.messageId).to.equal(first.messageId);
    expect(again.duplicate).to.equal(true);
  });

  it("refuses typing flagged anonymous, so composing anonymously names nobody", async () => {
    const [owner, alice] = await Promise.all(["owner", "alice"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const o = await connectAs(url, owner.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "r", memberIds: [alice.uid] });
    const a = await connectAs(url, alice.idToken);
    const typing = collect(o.socket, "typing");

    const answer = await call(a.socket, "typing_start", { conversationId: conversation.id, anonymous: true });
    await settle();

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("INVALID_ARGUMENT");
    expect(typing).to.deep.equal([]);
  });
});

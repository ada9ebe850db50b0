import { expect } from "chai";
import type { ChatMessage, ConversationSummary } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { callOk, collect, send, sendOk } from "./support/messaging";
import { arrived } from "./support/wait";
import { createUser } from "./support/users";

describe("replies", () => {
  it("a reply carries what it answers, live and in history; anonymous originals have no sender, ciphertext no preview", async () => {
    const [alice, bob] = await Promise.all(["alice", "bob"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(a.socket, "create_group", { name: "g", memberIds: [bob.uid] });
    const inbox = collect(b.socket);
    const long = "x".repeat(150);
    const original = await sendOk(a.socket, { conversationId: conversation.id, content: long });
    const anonymous = await sendOk(a.socket, { conversationId: conversation.id, content: "who said this", isAnonymous: true });
    const secret = await sendOk(a.socket, { conversationId: conversation.id, content: "Y2lwaGVy", encryptionLevel: "high" });

    await sendOk(a.socket, { conversationId: conversation.id, content: "re 1", replyToId: original.messageId });
    await sendOk(a.socket, { conversationId: conversation.id, content: "re 2", replyToId: anonymous.messageId });
    await sendOk(a.socket, { conversationId: conversation.id, content: "re 3", replyToId: secret.messageId });
    const live = (await arrived(inbox, 6)).slice(3);
    const { messages } = await callOk<{ messages: ChatMessage[] }>(b.socket, "fetch_history", { conversationId: conversation.id });

    expect(live[0].replyTo).to.deep.equal({ id: original.messageId, senderId: alice.uid, type: "text", preview: "x".repeat(100) });
    expect(live[1].replyTo).to.deep.equal({ id: anonymous.messageId, senderId: null, type: "text", preview: "who said this" });
    expect(live[2].replyTo).to.deep.equal({ id: secret.messageId, senderId: alice.uid, type: "text", preview: null });
    expect(messages.slice(-3).map((m) => m.replyTo)).to.deep.equal(live.map((m) => m.replyTo));
    expect(messages[0]).to.not.have.property("replyTo");
  });

  it("replying to a message of another conversation, or none, is NOT_FOUND", async () => {
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name) => createUser({ name })));
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    await connectAs(url, bob.idToken);
    const elsewhere = await sendOk(a.socket, { recipientId: carol.uid, content: "to carol" });
    await sendOk(a.socket, { recipientId: bob.uid, content: "to bob" });

    const foreign = await send(a.socket, { recipientId: bob.uid, content: "re", replyToId: elsewhere.messageId });
    const missing = await send(a.socket, { recipientId: bob.uid, content: "re", replyToId: "m_nothing" });

    expect(foreign.ok === false && foreign.error.code).to.equal("NOT_FOUND");
    expect(missing.ok === false && missing.error.code).to.equal("NOT_FOUND");
  });
});

import { expect } from "chai";
import { firebaseAuth, firestore } from "../src/firebase";
import type { ConversationSummary } from "../src/protocol";
import { gatewayWith, recordingClient } from "./support/fixture";
import { callOk, sendOk } from "./support/messaging";
import { arrived, settle } from "./support/wait";

async function queueOf(uid: string) {
  const snapshot = await firestore().collection("offline_queue").where("recipientId", "==", uid).get();
  return snapshot.docs.map((d) => d.data());
}

describe("offline queue", () => {
  it("queues messages for an offline recipient and delivers them in order when it connects", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);
    const acks = [];
    for (const content of ["one", "two", "three"]) acks.push(await sendOk(a.socket, { recipientId: bob.uid, content }));

    const queued = await queueOf(bob.uid);
    expect(queued).to.have.length(3);
    expect(queued.every((e) => e.delivered === false)).to.equal(true);
    expect(queued.map((e) => e.seq).sort()).to.deep.equal(acks.map((x) => x.seq));
    expect(queued[0].message).to.include({ conversationId: acks[0].conversationId, senderId: alice.uid });
  });

  it("delivers the queue before live traffic, per conversation in sequence order, then marks it delivered", async () => {
    const { url, connect, users: [alice, carol, bob] } = await gatewayWith(["alice", "carol", "bob"]);
    const [a, c] = await connect(alice, carol);
    for (const content of ["a1", "a2", "a3"]) await sendOk(a.socket, { recipientId: bob.uid, content });
    for (const content of ["c1", "c2"]) await sendOk(c.socket, { recipientId: bob.uid, content });

    const { socket: bobClient, received } = recordingClient(url, bob);
    await arrived(received, 5);
    const live = await sendOk(a.socket, { recipientId: bob.uid, content: "a4" });
    await arrived(received, 6);

    const byConversation = (id: string) => received.filter((m) => m.conversationId === id).map((m) => m.content);
    expect(byConversation(live.conversationId)).to.deep.equal(["a1", "a2", "a3", "a4"]);
    expect(received.filter((m) => m.senderId === carol.uid).map((m) => m.content)).to.deep.equal(["c1", "c2"]);

    for (const conversationId of new Set(received.map((m) => m.conversationId))) {
      const upToSeq = Math.max(...received.filter((m) => m.conversationId === conversationId).map((m) => m.seq));
      await callOk(bobClient, "mark_delivered", { conversationId, upToSeq });
    }
    const queue = await queueOf(bob.uid);
    expect(queue).to.have.length(5);
    expect(queue.every((e) => e.delivered === true && typeof e.deliveredAt === "number")).to.equal(true);
  });

  it("redelivers entries the client did not confirm, and not those it did", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"]);
    const [a] = await connect(alice);
    const first = await sendOk(a.socket, { recipientId: bob.uid, content: "confirmed" });
    await sendOk(a.socket, { recipientId: bob.uid, content: "unconfirmed" });

    const { socket: session1, received: got1 } = recordingClient(url, bob);
    await arrived(got1, 2);
    await callOk(session1, "mark_delivered", { conversationId: first.conversationId, upToSeq: first.seq });
    session1.disconnect();

    const { received: got2 } = recordingClient(url, bob);
    await arrived(got2, 1);
    await settle();

    expect(got2.map((m) => m.content)).to.deep.equal(["unconfirmed"]);
  });

  it("queues a group message only for the members who are offline", async () => {
    const { connect, users: [owner, online, offline] } = await gatewayWith(["owner", "online", "offline"]);
    const [o] = await connect(owner, online);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", {
      name: "g",
      memberIds: [online.uid, offline.uid],
    });

    await sendOk(o.socket, { conversationId: conversation.id, content: "hello group" });

    expect(await queueOf(online.uid)).to.have.length(0);
    const queued = await queueOf(offline.uid);
    expect(queued).to.have.length(1);
    expect(queued[0].message.content).to.equal("hello group");
  });

  it("a large group's queue entries are written in several batches of at most 500", async () => {
    const { connect, users: [owner] } = await gatewayWith(["owner"]);
    const memberIds: string[] = [];
    for (let i = 0; i < 520; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => firebaseAuth().createUser({ email: `big-${i + j}@talowa.test` })));
      memberIds.push(...batch.map((u) => u.uid));
    }
    const [o] = await connect(owner);
    const { conversation } = await callOk<{ conversation: ConversationSummary }>(o.socket, "create_group", { name: "district", memberIds });

    const ack = await sendOk(o.socket, { conversationId: conversation.id, content: "to 520 offline members" });

    const snapshot = await firestore().collection("offline_queue").where("messageId", "==", ack.messageId).get();
    expect(snapshot.size).to.equal(520);
  });

  it("a queue longer than one flush continues as the client confirms, each message once", async () => {
    const { url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { offlineFlushLimit: 3 });
    const [a] = await connect(alice);
    for (let i = 1; i <= 7; i += 1) await sendOk(a.socket, { recipientId: bob.uid, content: `q${i}` });

    const { socket: bobClient, received } = recordingClient(url, bob);
    await arrived(received, 3);
    await settle(200);
    expect(received).to.have.length(3);
    for (let confirmed = 3; received.length < 7; confirmed = received.length) {
      await callOk(bobClient, "mark_delivered", { conversationId: received[0].conversationId, upToSeq: received[confirmed - 1].seq });
      await arrived(received, Math.min(7, confirmed + 3));
    }
    await callOk(bobClient, "mark_delivered", { conversationId: received[0].conversationId, upToSeq: received[6].seq });
    await settle();

    expect(received.map((m) => m.content)).to.deep.equal(["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
  });
});

import { expect } from "chai";
import type { GatewayConfig } from "../src/config";
import type { MessageStore } from "../src/ports/message-store";
import { connectAs, nextEvent, startGateway } from "./support/gateway";
import { call, collect, send, sendOk, until } from "./support/messaging";
import { createUser } from "./support/users";

async function oneUserGateway(overrides: Partial<GatewayConfig> = {}) {
  const alice = await createUser({ name: "alice" });
  const bob = await createUser({ name: "bob" });
  const { url } = await startGateway(overrides);
  const a = await connectAs(url, alice.idToken);
  return { alice, bob, url, socket: a.socket };
}

describe("bad input", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["a missing clientId", { clientId: undefined }, "clientId"],
    ["content of the wrong type", { content: 42 }, "content"],
    ["an unknown message type", { type: "sticker" }, "type"],
    ["empty content", { content: "" }, "content"],
    ["both conversationId and recipientId", { conversationId: "x" }, "conversationId"],
  ];
  for (const [what, change, field] of cases) {
    it(`send_message with ${what}: INVALID_ARGUMENT naming ${field}`, async () => {
      const { bob, socket } = await oneUserGateway();

      const answer = await send(socket, { recipientId: bob.uid, ...change } as never);

      expect(answer.ok).to.equal(false);
      if (!answer.ok) {
        expect(answer.error.code).to.equal("INVALID_ARGUMENT");
        expect(answer.error.message).to.include(field);
      }
    });
  }

  // Issue 14: unknown fields are ignored (a newer app can talk to an older gateway); this replaces the
  // former "send_message with an unknown field: INVALID_ARGUMENT naming colour".
  it("send_message with an unknown field: the field is ignored and the message is sent without it", async () => {
    const { alice, bob, url, socket } = await oneUserGateway();
    const b = await connectAs(url, bob.idToken);
    const inbox = collect(b.socket);

    const answer = await send(socket, { recipientId: bob.uid, content: "hi", colour: "red" } as never);

    expect(answer.ok).to.equal(true);
    const [message] = await until(inbox, 1);
    expect(message).to.include({ senderId: alice.uid, content: "hi" });
    expect(message).to.not.have.property("colour");
  });

  it("typing_start with an unknown field (recipientId) is accepted; a wrong type is still refused", async () => {
    const { bob, url, socket } = await oneUserGateway();
    await connectAs(url, bob.idToken);
    const { conversationId } = await sendOk(socket, { recipientId: bob.uid });

    const accepted = await call(socket, "typing_start", { conversationId, recipientId: bob.uid });
    const refused = await call(socket, "typing_start", { conversationId: 42 });

    expect(accepted.ok).to.equal(true);
    expect(refused.ok).to.equal(false);
    if (!refused.ok) expect(refused.error.code).to.equal("INVALID_ARGUMENT");
  });

  it("a payload that is not an object: INVALID_ARGUMENT", async () => {
    const { socket } = await oneUserGateway();

    const answer = await call(socket, "send_message", "just a string");

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("INVALID_ARGUMENT");
  });

  it("oversized content: PAYLOAD_TOO_LARGE", async () => {
    const { bob, socket } = await oneUserGateway({ maxContentBytes: 1_000 });

    const answer = await send(socket, { recipientId: bob.uid, content: "x".repeat(1_001) });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("PAYLOAD_TOO_LARGE");
  });

  it("a frame beyond maxHttpBufferSize closes only that client's connection", async () => {
    const { bob, url, socket } = await oneUserGateway({ maxHttpBufferSize: 10_000 });
    const b = await connectAs(url, bob.idToken);

    const gone = nextEvent<string>(socket, "disconnect");
    socket.emit("send_message", { clientId: "big", type: "text", content: "x".repeat(20_000), recipientId: bob.uid }, () => undefined);

    expect(await gone).to.equal("transport close");
    expect((await b.socket.timeout(2_000).emitWithAck("heartbeat")).ok).to.equal(true);
  });

  it("an unknown event: INVALID_ARGUMENT through the ack, or an error event without one", async () => {
    const { socket } = await oneUserGateway();
    const errors = collect<{ code: string; message: string }>(socket, "error");

    const answer = await call(socket, "delete_everything", { all: true });
    (socket as unknown as { emit(event: string): void }).emit("no_such_event");

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.message).to.include("delete_everything");
    const [error] = await until(errors, 1);
    expect(error).to.include({ code: "INVALID_ARGUMENT" });
    expect(error.message).to.include("no_such_event");
  });

  it("a recipient that does not exist: NOT_FOUND", async () => {
    const { socket } = await oneUserGateway();

    const answer = await send(socket, { recipientId: "nobody-by-this-id" });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("NOT_FOUND");
  });

  it("a conversation one is not a member of: NOT_FOUND", async () => {
    const { socket } = await oneUserGateway();

    const answer = await send(socket, { conversationId: "grp_not_mine" });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("NOT_FOUND");
  });

  it("an emergency message from a plain member: PERMISSION_DENIED", async () => {
    const { bob, socket } = await oneUserGateway();

    const answer = await send(socket, { recipientId: bob.uid, type: "emergency", content: "flood!" });

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("PERMISSION_DENIED");
  });

  it("a store failure: UNAVAILABLE, nothing delivered, and the retry with the same clientId succeeds once", async () => {
    const alice = await createUser({ name: "alice" });
    const bob = await createUser({ name: "bob" });
    let failNext = true;
    const failingOnce = (real: MessageStore): MessageStore =>
      new Proxy(real, {
        get(target, property, receiver) {
          if (property === "appendMessage" && failNext) {
            return async () => {
              failNext = false;
              throw new Error("deadline exceeded");
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const { url } = await startGateway({}, { messageStore: failingOnce } as never);
    const a = await connectAs(url, alice.idToken);
    const b = await connectAs(url, bob.idToken);
    const received = collect(b.socket);

    const failed = await send(a.socket, { recipientId: bob.uid, clientId: "retry-me", content: "important" });
    const retried = await sendOk(a.socket, { recipientId: bob.uid, clientId: "retry-me", content: "important" });

    expect(failed.ok).to.equal(false);
    if (!failed.ok) expect(failed.error.code).to.equal("UNAVAILABLE");
    expect(retried.duplicate).to.equal(false);
    expect((await until(received, 1)).map((m) => m.content)).to.deep.equal(["important"]);
  });

  it("a flood of bad requests does not disturb other users", async () => {
    const { bob, url, socket } = await oneUserGateway();
    const b = await connectAs(url, bob.idToken);
    const carol = await createUser({ name: "carol" });
    const c = await connectAs(url, carol.idToken);
    const received = collect(c.socket);

    await Promise.all(Array.from({ length: 200 }, (_, i) => call(socket, i % 2 ? "send_message" : "bogus", { junk: i })));
    await sendOk(b.socket, { recipientId: carol.uid, content: "still here" });

    expect((await until(received, 1))[0].content).to.equal("still here");
  });
});

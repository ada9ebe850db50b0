import { expect } from "chai";
import type { GatewayConfig } from "../src/config";
import type { MessageStore } from "../src/ports/message-store";
import { expectError } from "./support/expect-error";
import { gatewayWith } from "./support/fixture";
import { nextEvent } from "./support/gateway";
import { call, collect, send, sendOk } from "./support/messaging";
import { createUser } from "./support/users";
import { arrived } from "./support/wait";

/** A gateway, alice connected, and bob (not connected) to write to. */
async function oneUserGateway(overrides: Partial<GatewayConfig> = {}) {
  const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], overrides);
  const [a] = await connect(alice);
  return { alice, bob, connect, socket: a.socket };
}

describe("bad input", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["a missing clientId", { clientId: undefined }, "clientId"],
    ["content of the wrong type", { content: 42 }, "content"],
    ["an unknown message type", { type: "sticker" }, "type"],
    ["empty content", { content: "" }, "content"],
    ["both conversationId and recipientId", { conversationId: "x" }, "conversationId"],
    ["an unknown field", { colour: "red" }, "colour"],
  ];
  for (const [what, change, field] of cases) {
    it(`send_message with ${what}: INVALID_ARGUMENT naming ${field}`, async () => {
      const { bob, socket } = await oneUserGateway();

      const answer = await send(socket, { recipientId: bob.uid, ...change } as never);

      expect(expectError(answer, "INVALID_ARGUMENT").message).to.include(field);
    });
  }

  it("a payload that is not an object: INVALID_ARGUMENT", async () => {
    const { socket } = await oneUserGateway();

    const answer = await call(socket, "send_message", "just a string");

    expectError(answer, "INVALID_ARGUMENT");
  });

  it("oversized content: PAYLOAD_TOO_LARGE", async () => {
    const { bob, socket } = await oneUserGateway({ maxContentBytes: 1_000 });

    const answer = await send(socket, { recipientId: bob.uid, content: "x".repeat(1_001) });

    expectError(answer, "PAYLOAD_TOO_LARGE");
  });

  it("a frame beyond maxHttpBufferSize closes only that client's connection", async () => {
    const { bob, connect, socket } = await oneUserGateway({ maxHttpBufferSize: 10_000 });
    const [b] = await connect(bob);

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
    const [error] = await arrived(errors, 1);
    expect(error).to.include({ code: "INVALID_ARGUMENT" });
    expect(error.message).to.include("no_such_event");
  });

  it("a recipient that does not exist: NOT_FOUND", async () => {
    const { socket } = await oneUserGateway();

    const answer = await send(socket, { recipientId: "nobody-by-this-id" });

    expectError(answer, "NOT_FOUND");
  });

  it("a conversation one is not a member of: NOT_FOUND", async () => {
    const { socket } = await oneUserGateway();

    const answer = await send(socket, { conversationId: "grp_not_mine" });

    expectError(answer, "NOT_FOUND");
  });

  it("an emergency message from a plain member: PERMISSION_DENIED", async () => {
    const { bob, socket } = await oneUserGateway();

    const answer = await send(socket, { recipientId: bob.uid, type: "emergency", content: "flood!" });

    expectError(answer, "PERMISSION_DENIED");
  });

  it("a store failure: UNAVAILABLE, nothing delivered, and the retry with the same clientId succeeds once", async () => {
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
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], {}, { messageStore: failingOnce });
    const [a, b] = await connect(alice, bob);
    const received = collect(b.socket);

    const failed = await send(a.socket, { recipientId: bob.uid, clientId: "retry-me", content: "important" });
    const retried = await sendOk(a.socket, { recipientId: bob.uid, clientId: "retry-me", content: "important" });

    expectError(failed, "UNAVAILABLE");
    expect(retried.duplicate).to.equal(false);
    expect((await arrived(received, 1)).map((m) => m.content)).to.deep.equal(["important"]);
  });

  it("a flood of bad requests does not disturb other users", async () => {
    const { bob, connect, socket } = await oneUserGateway();
    const carol = await createUser({ name: "carol" });
    const [b, c] = await connect(bob, carol);
    const received = collect(c.socket);

    await Promise.all(Array.from({ length: 200 }, (_, i) => call(socket, i % 2 ? "send_message" : "bogus", { junk: i })));
    await sendOk(b.socket, { recipientId: carol.uid, content: "still here" });

    expect((await arrived(received, 1))[0].content).to.equal("still here");
  });
});

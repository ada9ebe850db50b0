import { expect } from "chai";
import { EventEmitter } from "node:events";
import { z } from "zod";
import { CallRegistry } from "../src/gateway/calls";
import { GatewayHooks } from "../src/gateway/hooks";
import { GatewayMetrics } from "../src/gateway/metrics";
import type { GatewaySocket } from "../src/gateway/types";
import { silentLogger } from "../src/ports/logger";
import { MemoryRateLimiter } from "../src/ports/rate-limiter/memory-rate-limiter";
import { defaultConfig } from "../src/config";
import { gatewayWith } from "./support/fixture";
import { connectAs, connectError, createClient, nextEvent } from "./support/gateway";
import { call, sendOk } from "./support/messaging";

/** Issue 12: a flood past its budget is refused without asking the (shared, Redis) limiter for every call. */
describe("call budgets: a spent budget is refused locally until its window frees", () => {
  it("asks the limiter once per refused window, answers RATE_LIMITED with a shrinking retryAfterMs, and asks again after it", async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const inner = new MemoryRateLimiter(clock);
    let asked = 0;
    const rateLimiter = { consume: (key: string, limit: number, windowMs: number) => ((asked += 1), inner.consume(key, limit, windowMs)), block: () => Promise.resolve() };
    const registry = new CallRegistry({ logger: silentLogger, clock, rateLimiter, rateLimits: { ping_me: { limit: 2, windowMs: 10_000 } }, hooks: new GatewayHooks(silentLogger), metrics: new GatewayMetrics(), maxRefusedCallsPerMinute: 0 });
    // A socket stand-in: socket.io calls `onAny` listeners with the socket as `this`.
    let dispatch: (this: unknown, ...args: unknown[]) => void = () => undefined;
    const socket = Object.assign(new EventEmitter(), { data: { uid: "flooder" }, onAny: (listener: typeof dispatch) => (dispatch = listener) }) as unknown as GatewaySocket;
    registry.define("ping_me", { schema: z.unknown(), handle: () => ({ pong: true }) });
    registry.attach(socket);
    const callOnce = () => new Promise<{ ok: boolean; error?: { code: string; retryAfterMs?: number } }>((resolve) => dispatch.call(socket, "ping_me", {}, resolve));

    const answers = [];
    for (let i = 0; i < 50; i += 1) answers.push(await callOnce());
    now += 4_000;
    const later = await callOnce();
    const askedDuringFlood = asked;
    now += 7_000;
    const afterWindow = await callOnce();

    expect(answers.slice(0, 2).every((a) => a.ok)).to.equal(true);
    expect(answers.slice(2).every((a) => a.error?.code === "RATE_LIMITED")).to.equal(true);
    expect(askedDuringFlood).to.equal(3);
    expect(later.error?.retryAfterMs).to.be.within(1, 6_000);
    expect(afterWindow.ok).to.equal(true);
  });
});

describe("call floods: a socket that keeps calling while refused is cut off", () => {
  it("ends the flooder's session with CALL_FLOOD after the allowed refusals; its other device and a bystander pair keep working", async () => {
    const { connect, users: [mallory, alice, bob] } = await gatewayWith(["mallory", "alice", "bob"], {
      maxRefusedCallsPerMinute: 20,
      rateLimits: { ...defaultConfig.rateLimits, fetch_history: { limit: 2, windowMs: 60_000 } },
    });
    const [flooder, calm, a] = await connect(mallory, mallory, alice, bob);
    const conversation = await sendOk(a.socket, { recipientId: bob.uid, content: "before" });
    const ended = nextEvent<{ reason: string }>(flooder.socket, "session_ended", 10_000);
    const gone = nextEvent(flooder.socket, "disconnect", 10_000);

    const codes: string[] = [];
    for (let i = 0; i < 40 && flooder.socket.connected; i++) {
      const answer = await call(flooder.socket, "fetch_history", { conversationId: "c_nothing" }).catch(() => undefined);
      if (answer && !answer.ok) codes.push(answer.error.code);
    }

    expect((await ended).reason).to.equal("CALL_FLOOD");
    await gone;
    expect(codes.filter((c) => c === "RATE_LIMITED").length).to.be.within(20, 21);
    expect((await call(calm.socket, "heartbeat")).ok).to.equal(true);
    const after = await sendOk(a.socket, { recipientId: bob.uid, content: "after" });
    expect(after.seq).to.be.above(conversation.seq);
  });

  it("counts malformed and unknown calls toward the cutoff: a fuzzer is cut off, a client with a few bad calls is not", async () => {
    const { connect, users: [mallory, alice] } = await gatewayWith(["mallory", "alice"], { maxRefusedCallsPerMinute: 20 });
    const [fuzzer, sloppy] = await connect(mallory, alice);
    const ended = nextEvent<{ reason: string }>(fuzzer.socket, "session_ended", 10_000);

    const codes: string[] = [];
    for (let i = 0; i < 40 && fuzzer.socket.connected; i++) {
      const answer = await call(fuzzer.socket, i % 2 ? "send_message" : `no_such_call_${i}`, { recipientId: 42 }).catch(() => undefined);
      if (answer && !answer.ok) codes.push(answer.error.code);
    }
    for (let i = 0; i < 15; i++) await call(sloppy.socket, "send_message", { content: "" });

    expect((await ended).reason).to.equal("CALL_FLOOD");
    expect(codes.length).to.be.within(20, 21);
    expect(new Set(codes)).to.deep.equal(new Set(["INVALID_ARGUMENT"]));
    expect(sloppy.socket.connected, "15 refusals stay under the budget of 20").to.equal(true);
    expect((await call(sloppy.socket, "heartbeat")).ok).to.equal(true);
  });

  it("refuses the cut-off account's reconnections for CALL_FLOOD_PENALTY (RATE_LIMITED, retryAfterMs), not anyone else's", async () => {
    const { url, connect, users: [mallory, alice] } = await gatewayWith(["mallory", "alice"], { maxRefusedCallsPerMinute: 5, callFloodPenaltyMs: 30_000 });
    const [flooder] = await connect(mallory);
    const ended = nextEvent<{ reason: string }>(flooder.socket, "session_ended", 10_000);
    for (let i = 0; i < 10 && flooder.socket.connected; i++) await call(flooder.socket, "no_such_call").catch(() => undefined);
    expect((await ended).reason).to.equal("CALL_FLOOD");

    const refused = await connectError(createClient(url, { auth: { token: mallory.idToken } }));
    expect(refused.data).to.include({ code: "RATE_LIMITED", reason: "CONNECTION_RATE" });
    expect((refused.data as { retryAfterMs?: number }).retryAfterMs).to.be.within(20_000, 30_000);
    const other = await connectAs(url, alice.idToken);
    expect(other.welcome.uid).to.equal(alice.uid);
  });
});

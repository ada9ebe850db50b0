import { expect } from "chai";
import { firestore } from "../src/firebase";
import type { Logger } from "../src/ports/logger";
import { connectAs, startGateway } from "./support/gateway";
import { call, send, sendOk } from "./support/messaging";
import { settle } from "./support/wait";
import { createUser } from "./support/users";

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i += 1) value = { n: value };
  return value;
}

/** Issue 12 (6): what Firestore would refuse is INVALID_ARGUMENT naming the field, before anything is allocated. */
describe("abuse: right codes for what the store would refuse", () => {
  const refusedCases: Array<[string, Record<string, unknown>, string]> = [
    ["metadata nested past Firestore's 20 levels", { metadata: nested(20) }, "metadata"],
    ["a reserved field name (__name__)", { metadata: { __name__: "x" } }, "metadata.__name__"],
    ["a reserved nested field name", { metadata: { a: { __key__: 1 } } }, "metadata.a.__key__"],
    ["a field name over 1,500 bytes", { metadata: { ["k".repeat(1_501)]: 1 } }, "metadata.kkkk"],
  ];
  for (const [what, extra, field] of refusedCases) {
    it(`${what}: INVALID_ARGUMENT naming ${field}, nothing stored, no seq used`, async () => {
      const alice = await createUser({ name: "alice" });
      const bob = await createUser({ name: "bob" });
      const { url } = await startGateway();
      const a = await connectAs(url, alice.idToken);
      const first = await sendOk(a.socket, { recipientId: bob.uid, content: "before" });
      const refused = await send(a.socket, { recipientId: bob.uid, content: "bad", ...extra });
      const after = await sendOk(a.socket, { recipientId: bob.uid, content: "after" });

      expect(refused.ok).to.equal(false);
      if (!refused.ok) {
        expect(refused.error.code).to.equal("INVALID_ARGUMENT");
        expect(refused.error.message).to.contain(field);
      }
      expect(after.seq).to.equal(first.seq + 1);
      const stored = await firestore().collection("conversations").doc(first.conversationId).collection("messages").get();
      expect(stored.size).to.equal(2);
    });
  }

  it("accepts metadata nested within the limit", async () => {
    const alice = await createUser({ name: "alice" });
    const bob = await createUser({ name: "bob" });
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    const ok = await send(a.socket, { recipientId: bob.uid, content: "deep enough", metadata: nested(15) });
    expect(ok.ok).to.equal(true);
  });

  it("a payload nested 2,000 levels deep, on any call: INVALID_ARGUMENT, not INTERNAL", async () => {
    const alice = await createUser({ name: "alice" });
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    for (const event of ["send_message", "get_presence", "create_group", "heartbeat"]) {
      const answer = await call(a.socket, event, nested(2_000));
      expect(answer.ok, event).to.equal(false);
      if (!answer.ok) expect(answer.error.code, event).to.equal("INVALID_ARGUMENT");
    }
  });

  it("unknown events are all counted but logged at most once per connection per minute", async () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const alice = await createUser({ name: "alice" });
    const { url, gateway } = await startGateway({}, { logger });
    const a = await connectAs(url, alice.idToken);
    const before = (await gateway.metrics.render()).body;
    for (let i = 0; i < 50; i += 1) (a.socket as unknown as { emit(event: string): void }).emit(`no_such_event_${i}`);
    const answer = await call(a.socket, "no_such_event");
    await settle();

    expect(answer.ok).to.equal(false);
    if (!answer.ok) expect(answer.error.code).to.equal("INVALID_ARGUMENT");
    expect(lines.filter((l) => l === "unknown event")).to.have.length(1);
    const count = (body: string) => Number(/^talowa_unknown_events_total(?:\{[^}]*\})? (\d+)/m.exec(body)?.[1] ?? 0);
    expect(count((await gateway.metrics.render()).body) - count(before)).to.equal(51);
  });
});

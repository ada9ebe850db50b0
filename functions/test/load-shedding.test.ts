import { expect } from "chai";
import type { MessageStore } from "../src/ports/message-store";
import { connectAs, connectError, createClient, startGateway } from "./support/gateway";
import { send, sendOk } from "./support/messaging";
import { createUser } from "./support/users";

/**
 * Load shedding: past its bounds the gateway refuses new work at once (UNAVAILABLE with retryAfterMs)
 * instead of queueing it; once the work in flight is done, a retry goes through. The store is the real
 * Firestore store, held back by a gate the test opens (as a slow Firestore would hold it).
 */

/** A gate: calls wait on `wait()` until `open()`. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}

describe("load shedding", () => {
  it("past the bound on store operations in flight, a send is refused with UNAVAILABLE and retryAfterMs; its retry succeeds", async () => {
    const held = gate();
    let holding = false;
    const slowStore = (real: MessageStore): MessageStore =>
      Object.assign(Object.create(real) as MessageStore, {
        appendMessage: async (...args: Parameters<MessageStore["appendMessage"]>) => {
          if (holding) await held.wait();
          return real.appendMessage(...args);
        },
      });
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url, gateway } = await startGateway({ maxInFlightStoreOps: 1, shedRetryAfterMs: 321 }, { messageStore: slowStore } as never);
    const { socket } = await connectAs(url, alice.idToken);
    await connectAs(url, bob.idToken);
    await sendOk(socket, { recipientId: bob.uid, clientId: "warm" }); // opens the conversation
    holding = true;

    const first = send(socket, { recipientId: bob.uid, clientId: "first" });
    await new Promise((r) => setTimeout(r, 200)); // the first send now holds the one store slot
    const refused = await send(socket, { recipientId: bob.uid, clientId: "second" });

    expect(refused.ok).to.equal(false);
    if (refused.ok) return;
    expect(refused.error.code).to.equal("UNAVAILABLE");
    expect(refused.error.retryAfterMs).to.equal(321);
    holding = false;
    held.open();
    expect((await first).ok).to.equal(true);
    const retried = await sendOk(socket, { recipientId: bob.uid, clientId: "second" });
    expect(retried.duplicate).to.equal(false);
    const figures = await gateway.stats();
    expect(figures.load?.refused.store).to.be.at.least(1);
  });

  it("past the bound on admissions in progress, a connection is refused with UNAVAILABLE and retryAfterMs; it is admitted on retry", async () => {
    const held = gate();
    let holding = true;
    const slowStore = (real: MessageStore): MessageStore =>
      Object.assign(Object.create(real) as MessageStore, {
        conversationsOf: async (uid: string) => {
          if (holding) await held.wait();
          return real.conversationsOf(uid);
        },
      });
    const [alice, bob] = await Promise.all([createUser({ name: "alice" }), createUser({ name: "bob" })]);
    const { url, gateway } = await startGateway({ maxPendingAdmissions: 1, shedRetryAfterMs: 654 }, { messageStore: slowStore } as never);

    const firstAdmission = connectAs(url, alice.idToken);
    await new Promise((r) => setTimeout(r, 300)); // alice's admission waits on the store
    const error = await connectError(createClient(url, { auth: { token: bob.idToken } }));

    expect(error.data?.code).to.equal("UNAVAILABLE");
    expect((error.data as { retryAfterMs?: number }).retryAfterMs).to.equal(654);
    holding = false;
    held.open();
    await firstAdmission;
    const { welcome } = await connectAs(url, bob.idToken);
    expect(welcome.uid).to.equal(bob.uid);
    const figures = await gateway.stats();
    expect(figures.load?.refused.admission).to.equal(1);
    expect(figures.connections.refused).to.be.at.least(1);
  });
});

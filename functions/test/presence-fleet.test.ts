import { expect } from "chai";
import { watchEachOther } from "../src/gateway/presence";
import Redis from "ioredis";
import { RedisPresenceStore } from "../src/ports/presence-store/redis-presence-store";
import { environment } from "./support/environment";
import type { PresenceUpdatePayload } from "../src/protocol";
import { gatewayWith } from "./support/fixture";
import { connectAs, startGateway } from "./support/gateway";
import { createConversation, fastPresence, nextPresence, presenceReady, recordUpdates, statusOf } from "./support/presence";
import { startStandalone } from "./support/standalone";
import { createUsers } from "./support/users";
import { settle } from "./support/wait";

/** The online directory every instance reads (presence in the shared Redis), as sending sees it. */
async function onlineDirectory<T>(use: (store: RedisPresenceStore) => Promise<T>): Promise<T> {
  const redis = new Redis(environment().redis.url);
  try {
    return await use(new RedisPresenceStore(redis));
  } finally {
    redis.disconnect();
  }
}

describe("presence across gateway instances", () => {
  it("shows a user connected to one instance to watchers, queries and the online directory of another", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    await createConversation([alice.uid, bob.uid]);
    const a = await startGateway(fastPresence);
    const b = await startGateway(fastPresence);
    const bobClient = await connectAs(b.url, bob.idToken);
    await presenceReady(bobClient.socket);

    const online = nextPresence(bobClient.socket, alice.uid, "online");
    const aliceClient = await connectAs(a.url, alice.idToken);
    await online;

    expect(await statusOf(bobClient.socket, alice.uid)).to.equal("online");
    const onlineUsers = await onlineDirectory((store) => store.onlineUsers([alice.uid, bob.uid, "nobody"]));
    expect([...onlineUsers]).to.have.members([alice.uid, bob.uid]);

    const busy = nextPresence(bobClient.socket, alice.uid, "busy");
    await aliceClient.socket.timeout(5_000).emitWithAck("update_presence", { status: "busy", customStatus: "on a call" });
    expect(await busy).to.include({ customStatus: "on a call" });

    const offline = nextPresence(bobClient.socket, alice.uid, "offline");
    aliceClient.socket.disconnect();
    await offline;
  });

  it("makes members of a conversation created after they connected watch each other, on every instance", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const a = await startGateway(fastPresence);
    const b = await startGateway(fastPresence);
    const aliceClient = await connectAs(a.url, alice.idToken);
    const bobClient = await connectAs(b.url, bob.idToken);
    await presenceReady(aliceClient.socket);
    await presenceReady(bobClient.socket);
    const aliceHeard: PresenceUpdatePayload[] = recordUpdates(aliceClient.socket);

    watchEachOther(a.gateway.io, [alice.uid, bob.uid]);
    await settle(300); // the joins travel through Redis, then the room subscriptions
    const busy = nextPresence(bobClient.socket, alice.uid, "busy");
    await aliceClient.socket.timeout(5_000).emitWithAck("update_presence", { status: "busy" });
    await busy;
    const bobBusy = nextPresence(aliceClient.socket, bob.uid, "busy");
    await bobClient.socket.timeout(5_000).emitWithAck("update_presence", { status: "busy" });
    await bobBusy;

    expect(aliceHeard.filter((u) => u.userId === alice.uid)).to.deep.equal([]);
  });

  it("takes the users of an instance that dies offline within the TTL, found by another instance", async () => {
    const { connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], fastPresence);
    await createConversation([alice.uid, bob.uid]);
    const [bobClient] = await connect(bob);
    await presenceReady(bobClient.socket);
    const doomed = await startStandalone({
      PRESENCE_TTL_MS: String(fastPresence.presenceTtlMs),
      HEARTBEAT_INTERVAL_MS: String(fastPresence.heartbeatIntervalMs),
      PRESENCE_SWEEP_INTERVAL_MS: String(fastPresence.presenceSweepIntervalMs),
      PING_INTERVAL_MS: String(fastPresence.pingIntervalMs),
    });
    const online = nextPresence(bobClient.socket, alice.uid, "online");
    await connectAs(doomed.url, alice.idToken);
    await online;

    const offline = nextPresence(bobClient.socket, alice.uid, "offline", fastPresence.presenceTtlMs + 5_000);
    const killedAt = Date.now();
    await doomed.gateway.kill();
    const update = await offline;

    expect(update.lastSeen).to.be.at.most(killedAt + 500);
    expect(await statusOf(bobClient.socket, alice.uid)).to.equal("offline");
  });
});

import { expect } from "chai";
import { gatewayWith } from "./support/fixture";
import { connectAs, connectError, createClient, nextEvent, startGateway } from "./support/gateway";
import type { ServerShutdownPayload } from "../src/protocol";

describe("graceful shutdown", () => {
  it("tells connected clients to reconnect later, then closes their sockets", async () => {
    const { gateway, url, connect, users: [alice, bob] } = await gatewayWith(["alice", "bob"], { shutdownTimeoutMs: 500, reconnectAfterMs: 3_000 });
    const [a] = await connect(alice);
    const b = await connectAs(url, bob.idToken, { transports: ["polling"] });
    const noticeA = nextEvent<ServerShutdownPayload>(a.socket, "server_shutdown");
    const noticeB = nextEvent<ServerShutdownPayload>(b.socket, "server_shutdown");
    const goneA = nextEvent<string>(a.socket, "disconnect");
    const goneB = nextEvent<string>(b.socket, "disconnect");

    await gateway.stop();

    expect(await noticeA).to.deep.equal({ reason: "shutdown", reconnectAfterMs: 3_000 });
    expect(await noticeB).to.deep.equal({ reason: "shutdown", reconnectAfterMs: 3_000 });
    expect(await goneA).to.equal("io server disconnect");
    expect(await goneB).to.equal("io server disconnect");
    expect(gateway.status).to.equal("stopped");
  });

  it("finishes early when every client left before the bound", async () => {
    const { gateway, connect, users: [carol] } = await gatewayWith(["carol"], { shutdownTimeoutMs: 5_000 });
    const [{ socket }] = await connect(carol);
    socket.on("server_shutdown", () => socket.disconnect());

    const started = Date.now();
    await gateway.stop();

    expect(Date.now() - started).to.be.below(4_000);
  });

  it("refuses new connections while draining", async () => {
    const { gateway, url, connect, users: [dan, erin] } = await gatewayWith(["dan", "erin"], { shutdownTimeoutMs: 1_000 });
    await connect(dan);

    const stopping = gateway.stop();
    const error = await connectError(createClient(url, { auth: { token: erin.idToken } }));
    await stopping;

    expect(error.data).to.include({ code: "UNAVAILABLE" });
  });

  it("is idempotent", async () => {
    const { gateway } = await startGateway();

    await Promise.all([gateway.stop(), gateway.stop()]);
    await gateway.stop();

    expect(gateway.status).to.equal("stopped");
  });
});

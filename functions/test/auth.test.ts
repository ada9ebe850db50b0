import { expect } from "chai";
import { firebaseAuth } from "../src/firebase";
import { gatewayWith } from "./support/fixture";
import { connectAs, connectError, createClient, startGateway } from "./support/gateway";
import { createUser, forgeEmulatorToken } from "./support/users";
import { settle } from "./support/wait";

describe("admission with a Firebase ID token", () => {
  it("admits a client with a real token over websocket and tells it its uid, heartbeat and presence TTL", async () => {
    const { connect, users: [alice] } = await gatewayWith(["alice"], { heartbeatIntervalMs: 15_000, presenceTtlMs: 45_000 });

    const [{ socket, welcome }] = await connect(alice);

    expect(socket.connected).to.equal(true);
    expect(welcome.uid).to.equal(alice.uid);
    expect(welcome.heartbeatIntervalMs).to.equal(15_000);
    expect(welcome.presenceTtlMs).to.equal(45_000);
    expect(welcome.roles).to.deep.equal(["member"]);
  });

  it("admits a client over HTTP long-polling", async () => {
    const { url, users: [bob] } = await gatewayWith(["bob"]);

    const { socket, welcome } = await connectAs(url, bob.idToken, { transports: ["polling"] });

    expect(welcome.uid).to.equal(bob.uid);
    expect(socket.io.engine.transport.name).to.equal("polling");
  });

  it("accepts the token from an Authorization: Bearer header", async () => {
    const { url, users: [carol] } = await gatewayWith(["carol"]);

    const { welcome } = await connectAs(url, "", { auth: {}, extraHeaders: { Authorization: `Bearer ${carol.idToken}` } });

    expect(welcome.uid).to.equal(carol.uid);
  });

  it("accepts the token from a token query parameter only when allowTokenInQuery is on", async () => {
    const { url, users: [dan] } = await gatewayWith(["dan"], { allowTokenInQuery: true });
    const off = await startGateway();

    const { welcome } = await connectAs(url, "", { auth: {}, query: { token: dan.idToken } });
    const refused = await connectError(createClient(off.url, { auth: {}, query: { token: dan.idToken } }));

    expect(welcome.uid).to.equal(dan.uid);
    expect(refused.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
  });

  it("sends no CORS headers by default, and never credentials with *", async () => {
    const { url } = await startGateway();
    const any = await startGateway({ corsOrigins: ["*"] });
    const listed = await startGateway({ corsOrigins: ["https://app.talowa.org"] });
    const ask = (base: string) => fetch(`${base}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "https://evil.example" } });

    const [none, star, list] = await Promise.all([ask(url), ask(any.url), ask(listed.url)]);

    expect(none.headers.get("access-control-allow-origin")).to.equal(null);
    expect(star.headers.get("access-control-allow-origin")).to.equal("*");
    expect(star.headers.get("access-control-allow-credentials")).to.equal(null);
    expect(list.headers.get("access-control-allow-origin")).to.not.equal("https://evil.example");
  });

  it("gives roles from custom claims", async () => {
    const { connect, users: [admin] } = await gatewayWith([{ name: "admin", claims: { admin: true, role: "coordinator" } }]);

    const [{ welcome }] = await connect(admin);

    expect(welcome.roles).to.have.members(["member", "coordinator", "admin"]);
  });

  it("answers heartbeats with the server time", async () => {
    const { connect, users: [erin] } = await gatewayWith(["erin"]);
    const [{ socket }] = await connect(erin);

    const answer = await socket.timeout(2_000).emitWithAck("heartbeat");

    expect(answer.ok).to.equal(true);
    if (answer.ok) expect(answer.serverTime).to.be.closeTo(Date.now(), 5_000);
  });
});

describe("refusal without a valid token", () => {
  async function refusalFor(auth: Record<string, unknown>) {
    const { url } = await startGateway();
    const client = createClient(url, { auth });
    const error = await connectError(client);
    return { error, client };
  }

  it("refuses a client with no token", async () => {
    const { error, client } = await refusalFor({});

    expect(error.message).to.match(/No ID token was presented/);
    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" });
    expect(client.connected).to.equal(false);
  });

  it("refuses a malformed token", async () => {
    const { error } = await refusalFor({ token: "not-a-jwt" });

    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_MALFORMED" });
  });

  it("refuses an expired token", async () => {
    const frank = await createUser({ name: "frank" });
    const twoHoursAgo = Math.floor(Date.now() / 1000) - 7200;
    const expired = forgeEmulatorToken(frank.uid, { iat: twoHoursAgo, auth_time: twoHoursAgo, exp: twoHoursAgo + 3600 });

    const { error } = await refusalFor({ token: expired });

    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_EXPIRED" });
    expect(error.message).to.match(/expired/);
  });

  it("refuses a token issued for another project", async () => {
    const grace = await createUser({ name: "grace" });
    const foreign = forgeEmulatorToken(grace.uid, { aud: "another-project", iss: "https://securetoken.google.com/another-project" });

    const { error } = await refusalFor({ token: foreign });

    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_WRONG_PROJECT" });
  });

  it("refuses a revoked token", async () => {
    const heidi = await createUser({ name: "heidi" });
    await settle(1_100); // revocation has a one-second resolution
    await firebaseAuth().revokeRefreshTokens(heidi.uid);

    const { error } = await refusalFor({ token: heidi.idToken });

    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "TOKEN_REVOKED" });
  });

  it("refuses the token of a disabled account", async () => {
    const ivan = await createUser({ name: "ivan" });
    await firebaseAuth().updateUser(ivan.uid, { disabled: true });

    const { error } = await refusalFor({ token: ivan.idToken });

    expect(error.data).to.include({ code: "UNAUTHENTICATED", reason: "USER_DISABLED" });
  });

  it("keeps serving admitted clients while others are refused", async () => {
    const { url, connect, users: [judy] } = await gatewayWith(["judy"]);
    const [{ socket }] = await connect(judy);

    for (let i = 0; i < 5; i += 1) await connectError(createClient(url, { auth: { token: `bad-${i}` } }));
    const answer = await socket.timeout(2_000).emitWithAck("heartbeat");

    expect(answer.ok).to.equal(true);
    expect(socket.connected).to.equal(true);
  });
});

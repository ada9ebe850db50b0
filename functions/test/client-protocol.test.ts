/**
 * One source of truth for the wire protocol: the client's copy (client/src/generated/) is what
 * client/scripts/sync-protocol.mjs makes of functions/src/protocol.ts and errors.ts, byte for byte,
 * and the types the client exports are the server's.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type * as ClientProtocol from "../../client/src/index.js";
import type * as ServerProtocol from "../src/protocol";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: Array<true> = [
  true satisfies Same<ClientProtocol.ClientToServerEvents, ServerProtocol.ClientToServerEvents>,
  true satisfies Same<ClientProtocol.ServerToClientEvents, ServerProtocol.ServerToClientEvents>,
  true satisfies Same<ClientProtocol.ChatMessage, ServerProtocol.ChatMessage>,
];

describe("client protocol copy", () => {
  it("client/src/generated matches functions/src (run `npm --prefix client run sync-protocol` after changing the protocol)", () => {
    const script = join(__dirname, "..", "..", "client", "scripts", "sync-protocol.mjs");
    let failure = "";
    try {
      execFileSync(process.execPath, [script, "--check"], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      failure = String((error as { stderr?: Buffer }).stderr ?? error);
    }
    expect(failure).to.equal("");
    expect(agree).to.have.length(3);
  });
});

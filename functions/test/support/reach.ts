import { firebaseAuth, firestore } from "../../src/firebase";
import { createControlHandler } from "../../src/control/control-handler";
import type { GatewayHost } from "../../src/control/gateway-host";
import type { Gateway } from "../../src/gateway/gateway";
import { FirebaseBroadcastAudience } from "../../src/ports/broadcast-audience/firebase-broadcast-audience";
import { FirestoreBroadcastReceipts } from "../../src/ports/broadcast-receipts/firestore-broadcast-receipts";
import { FirestoreBroadcastStore } from "../../src/ports/broadcast-store/firestore-broadcast-store";
import { systemClock } from "../../src/ports/clock";
import { silentLogger } from "../../src/ports/logger";
import { RateLimiterFacade } from "../../src/ports/rate-limiter";
import { FirebaseTokenVerifier } from "../../src/ports/token-verifier/firebase-token-verifier";
import type { EmergencyBroadcastPayload } from "../../src/protocol";
import { createUser, TestUser } from "./users";

/** `n` users made in parallel (the Auth emulator takes them concurrently). */
export function createUsers(n: number, options: Parameters<typeof createUser>[0] = {}): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: n }, () => createUser(options)));
}

/**
 * The control handler over several running gateways: live delivery fans out to each, as the fleet host does
 * through Redis commands (tested on its own in functions-fleet.test.ts).
 */
export function controlOver(gateways: Gateway[], extra: Partial<Parameters<typeof createControlHandler>[0]["reach"]> = {}) {
  const host: GatewayHost = {
    mode: "fleet",
    start: async () => ({}),
    stop: async () => ({}),
    instances: async () => [],
    endSessions: async (uid: string) => ({ ended: gateways.reduce((n, g) => n + g.endSessions(uid), 0), instances: gateways.length }),
    broadcast: async (b: EmergencyBroadcastPayload) => {
      const reached = await Promise.all(gateways.map((g) => g.deliverBroadcast(b)));
      return { delivered: reached.reduce((a, n) => a + n, 0), instances: gateways.length };
    },
  };
  const handler = createControlHandler({
    host,
    verifier: new FirebaseTokenVerifier(firebaseAuth(), false),
    logger: silentLogger,
    broadcasts: new FirestoreBroadcastStore(firestore()),
    rateLimiter: new RateLimiterFacade(systemClock, undefined),
    broadcastLimit: { limit: 100, windowMs: 60_000 },
    controlRoles: ["admin"],
    reach: { audience: new FirebaseBroadcastAudience(firebaseAuth(), firestore()), receipts: new FirestoreBroadcastReceipts(firestore()), ...extra },
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> =>
    handler({ method, path, headers: { authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
}

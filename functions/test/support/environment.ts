import { AuthEmulator } from "../../tools/auth-emulator";
import { FirestoreEmulator } from "../../tools/firestore-emulator";
import { LocalRedis } from "../../tools/redis-server";

/** The real components every test runs against, started once per run by the root hooks. */
export interface TestEnvironment {
  projectId: string;
  authHost: string;
  auth?: AuthEmulator;
  firestore: FirestoreEmulator;
  redis: LocalRedis;
}

let current: TestEnvironment | undefined;

export function setEnvironment(env: TestEnvironment | undefined): void {
  current = env;
}

export function environment(): TestEnvironment {
  if (!current) throw new Error("the test environment is not started (mocha root hooks in test/support/hooks.ts)");
  return current;
}

export function environmentIfStarted(): TestEnvironment | undefined {
  return current;
}

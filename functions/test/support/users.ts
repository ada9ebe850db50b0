import { firebaseAuth } from "../../src/firebase";
import { environment } from "./environment";

export interface TestUser {
  uid: string;
  email: string;
  password: string;
  idToken: string;
}

let counter = 0;

/**
 * A real user in the Auth emulator, with custom claims, and a real ID token that carries them
 * (signed in through the emulator's REST API, as a client SDK would).
 */
export async function createUser(options: { name?: string; claims?: Record<string, unknown> } = {}): Promise<TestUser> {
  const name = options.name ?? "user";
  const email = `${name}-${Date.now()}-${++counter}@talowa.test`;
  const password = "secret-password";
  const record = await firebaseAuth().createUser({ email, password, displayName: name });
  if (options.claims) await firebaseAuth().setCustomUserClaims(record.uid, options.claims);
  const idToken = await signIn(email, password);
  return { uid: record.uid, email, password, idToken };
}

/** A user to create: a name, or a name with custom claims. */
export type UserSpec = string | { name: string; claims?: Record<string, unknown> };

/** Real users, created concurrently, in the order given. */
export function createUsers(...specs: UserSpec[]): Promise<TestUser[]> {
  return Promise.all(specs.map((spec) => createUser(typeof spec === "string" ? { name: spec } : spec)));
}

export async function signIn(email: string, password: string): Promise<string> {
  const { authHost } = environment();
  const res = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  });
  const body = (await res.json()) as { idToken?: string; error?: unknown };
  if (!body.idToken) throw new Error(`sign-in failed: ${JSON.stringify(body.error)}`);
  return body.idToken;
}

/**
 * An unsigned token shaped like the emulator's (alg "none"), with chosen claims: how tests make
 * expired or other-project tokens, which the emulator never issues.
 */
export function forgeEmulatorToken(uid: string, overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const projectId = environment().projectId;
  const payload = {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    auth_time: now,
    user_id: uid,
    sub: uid,
    iat: now,
    exp: now + 3600,
    firebase: { identities: {}, sign_in_provider: "password" },
    ...overrides,
  };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
}

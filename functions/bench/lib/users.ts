import type { BenchUser } from "./ipc";

/**
 * Real users in the Auth emulator and their real ID tokens: one `accounts:signUp` call per user,
 * which creates the account and signs it in (as a client SDK would), `concurrency` calls at a time.
 */
export async function createUsers(authHost: string, count: number, options: { concurrency?: number; prefix?: string } = {}): Promise<BenchUser[]> {
  const concurrency = options.concurrency ?? 32;
  const prefix = options.prefix ?? `bench-${Date.now().toString(36)}`;
  const users: BenchUser[] = new Array(count);
  let next = 0;
  const url = `http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=bench`;
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      let lastError: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email: `${prefix}-${i}@bench.talowa.test`, password: "bench-password", returnSecureToken: true }),
          });
          const body = (await res.json()) as { idToken?: string; localId?: string; error?: unknown };
          if (!body.idToken || !body.localId) throw new Error(`signUp failed: ${JSON.stringify(body.error ?? body)}`);
          users[i] = { uid: body.localId, token: body.idToken };
          lastError = undefined;
          break;
        } catch (error) {
          lastError = error;
        }
      }
      if (lastError) throw lastError;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return users;
}

/** Users for the bare relay: it admits a fixed token and takes the uid from the handshake. */
export function bareUsers(token: string, count: number): BenchUser[] {
  return Array.from({ length: count }, (_, i) => ({ uid: `bare-user-${i}`, token }));
}

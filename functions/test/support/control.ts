import { FunctionsEmulator } from "../../tools/functions-emulator";
import { environment } from "./environment";
import { TEST_CONTROL_SECRET } from "./secrets";

/** The Functions emulator serving our built functions, with the test environment's Auth, Firestore (and Redis). */
export function startFunctions(params: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<FunctionsEmulator> {
  const env = environment();
  return FunctionsEmulator.start({
    projectId: env.projectId,
    params: { CONTROL_SECRET: TEST_CONTROL_SECRET, ...params },
    env: { FIREBASE_AUTH_EMULATOR_HOST: env.authHost, FIRESTORE_EMULATOR_HOST: env.firestore.host, ...extraEnv },
  });
}

export interface Answer {
  status: number;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP call to `websocketServer`, answered as status + parsed JSON. */
export async function call(
  functions: FunctionsEmulator,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const res = await fetch(functions.url("websocketServer", path), { method, headers, body });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`websocketServer ${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 300)}`);
  }
}

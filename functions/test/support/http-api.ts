import type { FunctionsEmulator } from "../../tools/functions-emulator";

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP call to the `api` function, as an app would make it; the answer must be JSON. */
export async function apiCall(
  functions: FunctionsEmulator,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const res = await fetch(functions.url("api", path), { method, headers, body });
  const text = await res.text();
  try {
    return { status: res.status, headers: res.headers, body: JSON.parse(text) };
  } catch {
    throw new Error(`api ${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 300)}`);
  }
}

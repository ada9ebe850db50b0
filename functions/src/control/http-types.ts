import type { ErrorBody } from "../errors";

/** A framework-free HTTP request and response, so control handlers run the same in Express, Functions and tests. */
export interface ControlRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface ControlResponse {
  status: number;
  body: ({ ok: true } & Record<string, unknown>) | { ok: false; error: ErrorBody };
}

import { expect } from "chai";
import type { ErrorBody, ErrorCode } from "../../src/errors";

/**
 * Asserts that a call was refused with `code` and returns the error body, for further checks
 * (`retryAfterMs`, the message). `because` labels the assertion when one test checks many inputs.
 */
export function expectError(ack: { ok: true } | { ok: false; error: ErrorBody }, code: ErrorCode, because?: string): ErrorBody {
  expect(ack.ok, because).to.equal(false);
  if (ack.ok) throw new Error("unreachable: the assertion above failed");
  expect(ack.error.code, because).to.equal(code);
  return ack.error;
}

import { z } from "zod";
import { GatewayError } from "../../errors";
import { ActivityEvent, GATEWAY_ACTIONS } from "../../ports/activity-log";
import { clientContextOf } from "../../ports/activity-log/client-context";
import { firestoreCall } from "../backend";
import { parseInput } from "../input";
import type { ApiCall, Route } from "../types";

const MAX_METADATA_DEPTH = 4;

const activitySchema = z.object({
  action: z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, "lower_snake_case, at most 50 characters"),
  targetType: z.string().regex(/^[a-z][a-z0-9_]{0,29}$/, "lower_snake_case, at most 30 characters").optional(),
  targetId: z.string().min(1).max(100).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const activityRoutes: Route[] = [
  {
    /** An app's own action (from the allow-list), stored before the answer: 201 means it is in the log. */
    method: "POST",
    pattern: "/activity",
    limit: "activity",
    async handler(call) {
      const input = parseInput(activitySchema, call.body, "body");
      checkAction(call, input.action);
      if (input.metadata) checkMetadata(call, input.metadata);
      const { config } = call.deps;
      const context = clientContextOf(call.headers, { countryHeaders: config.activityCountryHeaders, regionHeaders: config.activityRegionHeaders });
      const event: ActivityEvent = { userId: call.caller.uid, action: input.action, at: call.now, ...context };
      if (input.targetType) event.targetType = input.targetType;
      if (input.targetId) event.targetId = input.targetId;
      if (input.metadata) event.metadata = input.metadata;
      await firestoreCall(call.deps, call.deps.activity.write([event]), "Firestore (activity log)");
      return { status: 201, body: { activity: event } };
    },
  },
];

function checkAction(call: ApiCall, action: string): void {
  if ((GATEWAY_ACTIONS as readonly string[]).includes(action)) {
    throw new GatewayError("INVALID_ARGUMENT", `action: ${action} is recorded by the gateway itself, not by apps.`);
  }
  const allowed = call.deps.config.activityActions;
  if (!allowed.includes(action)) throw new GatewayError("INVALID_ARGUMENT", `action: ${action} is not one of ${allowed.join(", ")}.`);
}

/** Small, shallow, and storable by Firestore as it is (no reserved `__name__` keys, no deep nesting). */
function checkMetadata(call: ApiCall, metadata: Record<string, unknown>): void {
  const max = call.deps.config.activityMaxMetadataBytes;
  if (Buffer.byteLength(JSON.stringify(metadata)) > max) throw new GatewayError("PAYLOAD_TOO_LARGE", `metadata is larger than ${max} bytes.`);
  const visit = (value: unknown, path: string, depth: number): void => {
    if (value === null || typeof value !== "object") return;
    if (depth > MAX_METADATA_DEPTH) throw new GatewayError("INVALID_ARGUMENT", `${path}: metadata nests at most ${MAX_METADATA_DEPTH} levels.`);
    for (const [key, inner] of Object.entries(value)) {
      if (!Array.isArray(value) && (key === "" || /^__.*__$/.test(key) || key.length > 100)) {
        throw new GatewayError("INVALID_ARGUMENT", `${path}: the key "${key.slice(0, 40)}" cannot be stored (empty, reserved __name__ style, or over 100 characters).`);
      }
      visit(inner, `${path}.${key}`, depth + 1);
    }
  };
  visit(metadata, "metadata", 1);
}

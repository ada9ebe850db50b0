import { GatewayError } from "../errors";
import type { BroadcastAudience } from "../ports/broadcast-audience/broadcast-audience";
import type { BroadcastReceipts } from "../ports/broadcast-receipts/broadcast-receipts";
import type { BroadcastStore } from "../ports/broadcast-store/broadcast-store";
import type { PushNotification } from "../ports/push-sender/push-sender";
import type { BroadcastTarget, EmergencyBroadcastPayload } from "../protocol";
import type { ControlRequest, ControlResponse } from "./http-types";

/** The ports the control plane needs to know who a broadcast reached. */
export interface BroadcastReachDeps {
  audience: BroadcastAudience;
  receipts: BroadcastReceipts;
  broadcasts: BroadcastStore;
  /** Live delivery through the host (single host or fleet). */
  deliver(broadcast: EmergencyBroadcastPayload): Promise<{ delivered: number; instances: number }>;
  /** Called with the recipients a delivery did not reach live (push to them; see the push feature). */
  unreachedLive?(broadcast: EmergencyBroadcastPayload, uids: string[]): Promise<void>;
}

/** The push for an emergency broadcast: high priority, one collapse key per broadcast, the text itself. */
export function broadcastPush(broadcast: EmergencyBroadcastPayload): PushNotification {
  return {
    title: broadcast.title,
    body: broadcast.body,
    data: { kind: "emergency_broadcast", broadcastId: broadcast.id, priority: broadcast.priority },
    collapseKey: `broadcast:${broadcast.id}`,
    priority: "high",
  };
}

export { broadcastTargetSchema } from "../gateway/control-auth";

const PAGE_MAX = 1_000;
const RESEND_MAX = 5_000;
const ID_ROUTE = /^\/emergency-broadcast\/([A-Za-z0-9_-]{1,128})(\/resend)?$/;

/**
 * Reach of emergency broadcasts: the audience recorded as receipts when a broadcast is sent,
 * `GET /emergency-broadcast/{id}` (targeted, delivered, acknowledged, a page of unreached uids) and
 * `POST /emergency-broadcast/{id}/resend` (live again, and pushed, to those who have not acknowledged).
 */
export function broadcastReach(deps: BroadcastReachDeps, now: () => number) {
  /** Resolves and records the audience; call before the live delivery so deliveries find their receipts. */
  async function record(broadcast: EmergencyBroadcastPayload): Promise<number> {
    const uids = await deps.audience.resolve(broadcast.target ?? { everyone: true });
    await deps.receipts.target(broadcast.id, uids, now());
    return uids.length;
  }

  /** After the live delivery: everyone still undelivered gets the push at once (and the replay on connect). */
  async function afterLive(broadcast: EmergencyBroadcastPayload): Promise<void> {
    if (!deps.unreachedLive) return;
    let after: string | undefined;
    for (;;) {
      const page = await deps.receipts.unreached(broadcast.id, { after, limit: PAGE_MAX });
      if (page.length === 0) return;
      const undelivered = await undeliveredOf(broadcast.id, page);
      if (undelivered.length) await deps.unreachedLive(broadcast, undelivered);
      after = page[page.length - 1];
    }
  }

  async function undeliveredOf(broadcastId: string, uids: string[]): Promise<string[]> {
    return deps.receipts.undelivered(broadcastId, uids);
  }

  async function stored(id: string): Promise<EmergencyBroadcastPayload> {
    const broadcast = await deps.broadcasts.get(id);
    if (!broadcast) throw new GatewayError("NOT_FOUND", `No emergency broadcast ${id}.`);
    return broadcast;
  }

  async function status(id: string, query: URLSearchParams): Promise<ControlResponse> {
    const broadcast = await stored(id);
    const limit = Math.min(Math.max(Number(query.get("limit")) || 100, 1), PAGE_MAX);
    const after = query.get("after") ?? undefined;
    const [counts, unreached] = await Promise.all([deps.receipts.counts(id), deps.receipts.unreached(id, { after, limit })]);
    const next = unreached.length === limit ? unreached[unreached.length - 1] : null;
    return { status: 200, body: { ok: true, broadcast, ...counts, unreached, nextAfter: next, generatedAt: now() } };
  }

  async function resend(id: string): Promise<ControlResponse> {
    const broadcast = await stored(id);
    const uids = await deps.receipts.unreached(id, { limit: RESEND_MAX });
    if (uids.length === 0) return { status: 200, body: { ok: true, resent: 0, delivered: 0 } };
    const live = await deps.deliver({ ...broadcast, resendTo: uids });
    if (deps.unreachedLive) await deps.unreachedLive(broadcast, await undeliveredOf(id, uids));
    return { status: 200, body: { ok: true, resent: uids.length, ...live, more: uids.length === RESEND_MAX } };
  }

  /** The route for a path with a broadcast id, or undefined. */
  function route(method: string, path: string, req: ControlRequest): (() => Promise<ControlResponse>) | undefined {
    const match = ID_ROUTE.exec(path);
    if (!match) return undefined;
    const query = new URLSearchParams(req.path.split("?")[1] ?? "");
    if (!match[2] && method === "GET") return () => status(match[1], query);
    if (match[2] && method === "POST") return () => resend(match[1]);
    return undefined;
  }

  return { record, afterLive, route };
}

export type BroadcastReach = ReturnType<typeof broadcastReach>;
export type { BroadcastTarget };

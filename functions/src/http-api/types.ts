import type { GatewayConfig } from "../config";
import type { ErrorBody } from "../errors";
import type { ActivityLog, ActivityReader } from "../ports/activity-log";
import type { Clock } from "../ports/clock";
import type { ConversationIndex } from "../ports/conversation-index/conversation-index";
import type { Logger } from "../ports/logger";
import type { MessageStore } from "../ports/message-store";
import type { PresenceStore } from "../ports/presence-store";
import type { PresenceVisibility } from "../ports/presence-visibility";
import type { PresencePrivacyStore } from "../ports/presence-privacy";
import type { RateLimiter } from "../ports/rate-limiter";
import type { TokenVerifier, VerifiedIdentity } from "../ports/token-verifier/token-verifier";
import type { UserProfiles } from "../ports/user-directory/user-profiles";
import type { UserRecordReader } from "../ports/user-records/user-record-reader";
import type { UserRecords } from "../ports/user-records/user-records";

/** A framework-free HTTP request: the Cloud Function, a plain Node server and tests all pass one. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body (string or Buffer) or an already parsed value; undefined when there is none. */
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body: ({ ok: true } & Record<string, unknown>) | { ok: false; error: ErrorBody };
  headers?: Record<string, string>;
}

/** Everything the API reads and writes, as ports (built by create-api.ts, or by tests). */
export interface ApiDeps {
  config: GatewayConfig;
  verifier: TokenVerifier;
  /** Redis presence, as the gateway writes it; undefined without Redis (presence answers 503 then). */
  presence?: PresenceStore;
  visibility: PresenceVisibility;
  /** Presence privacy (issue 12): who sees a user's last seen and custom status; the same store as the socket's. */
  privacy?: PresencePrivacyStore;
  /** Direct-conversation partners of a user (`contacts` in presence privacy). */
  directContactsOf?: (uid: string) => Promise<string[]>;
  records: UserRecordReader;
  recordWriter: UserRecords;
  profiles: UserProfiles;
  conversations: ConversationIndex;
  messages: MessageStore;
  activity: ActivityLog;
  analytics: ActivityReader;
  rateLimiter: RateLimiter;
  clock: Clock;
  logger: Logger;
}

/** What a route handler is given once the request is routed, authenticated and within its budget. */
export interface ApiCall {
  caller: VerifiedIdentity;
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: ApiRequest["headers"];
  /** Parsed JSON body (undefined when none was sent). */
  body: unknown;
  now: number;
  deps: ApiDeps;
}

export type RouteHandler = (call: ApiCall) => Promise<{ status?: number; body: Record<string, unknown> }>;

export interface Route {
  method: "GET" | "POST" | "PUT";
  /** Segments; `:name` captures one. */
  pattern: string;
  /** Rate-limit group (config.httpRateLimits); `default` when absent. */
  limit?: string;
  admin?: boolean;
  handler: RouteHandler;
}

import { z } from "zod";

/**
 * Every setting of TALOWA messaging, declared once: its environment variable, default, validation and
 * documentation. Grouped by subsystem. Hosts (standalone process, Cloud Functions, tests) start from the
 * defaults, override what their environment gives (`configFromEnv`) and validate the result once at
 * start; nothing else reads the environment. Settings marked `param` are also declared as
 * firebase-functions params (so `firebase deploy` prompts for them); see src/index.ts.
 */
interface Setting<S extends z.ZodType> {
  env: string;
  default: z.output<S>;
  schema: S;
  doc: string;
  /** Declared as a firebase-functions param of the control plane. */
  param?: boolean;
}

function setting<S extends z.ZodType>(env: string, defaultValue: z.output<S>, schema: S, doc: string, options: { param?: boolean } = {}): Setting<S> {
  return { env, default: defaultValue, schema, doc, ...options };
}

const ms = z.number().int().positive();
const count = z.number().int().positive();
const roles = z.array(z.string());
const rateRule = z.object({ limit: z.number().int().positive(), windowMs: ms }).strict();

export const settings = {
  // --- server ---------------------------------------------------------------------------------
  port: setting("PORT", 8081, z.number().int().min(0).max(65535), "TCP port the gateway listens on; 0 picks a free one (tests)."),
  host: setting("HOST", "127.0.0.1", z.string().min(1), "Interface to bind; loopback by default, `0.0.0.0` in containers."),
  path: setting("SOCKET_PATH", "/socket.io", z.string().startsWith("/"), "Socket.IO path clients connect to."),
  publicUrl: setting("GATEWAY_PUBLIC_URL", "", z.string(), "The gateway URL clients connect to (the Cloud Run service URL in fleet mode); empty: http://host:port. Reported in the fleet registry and by getWebSocketInfo.", { param: true }),
  corsOrigins: setting("CORS_ORIGINS", [] as string[], z.array(z.string().min(1)), "Browser origins allowed by CORS (polling transport and handshake), e.g. `https://app.talowa.org`; these get credentials. Empty (default): no CORS headers (mobile clients need none). `*` answers any origin but never with credentials."),
  allowTokenInQuery: setting("ALLOW_TOKEN_IN_QUERY", false, z.boolean(), "Accept the ID token as a `?token=` query parameter, for clients that cannot set `auth`; off by default because proxies log URLs."),
  transports: setting("TRANSPORTS", ["websocket", "polling"] as Array<"websocket" | "polling">, z.array(z.enum(["websocket", "polling"])).min(1), "Transports offered to clients. Websocket-only avoids sticky sessions behind a load balancer."),
  maxHttpBufferSize: setting("MAX_HTTP_BUFFER_SIZE", 1_000_000, z.number().int().min(1024), "Largest accepted client frame in bytes (Socket.IO `maxHttpBufferSize`); larger frames close the socket."),
  pingIntervalMs: setting("PING_INTERVAL_MS", 25_000, ms, "Socket.IO transport ping interval (dead transport detection)."),
  pingTimeoutMs: setting("PING_TIMEOUT_MS", 20_000, ms, "Socket.IO transport ping timeout."),
  shutdownTimeoutMs: setting("SHUTDOWN_TIMEOUT_MS", 10_000, ms, "Graceful shutdown: how long clients get to leave before the remaining sockets are closed."),
  reconnectAfterMs: setting("RECONNECT_AFTER_MS", 2_000, z.number().int().min(0), "Clients told to reconnect after a shutdown wait about this long before trying again."),
  logLevel: setting("LOG_LEVEL", "info" as "debug" | "info" | "warn" | "error", z.enum(["debug", "info", "warn", "error"]), "Lowest level the standalone gateway logs (JSON lines on stdout/stderr)."),
  instanceId: setting("INSTANCE_ID", "", z.string(), "Name of this gateway instance in logs and status reports; empty derives one from host and pid."),
  metricsToken: setting("METRICS_TOKEN", "", z.string(), "Bearer token a Prometheus scraper presents to `GET /metrics`; empty turns /metrics off (403). Keep it secret."),
  controlSecret: setting("CONTROL_SECRET", "", z.string(), "Shared secret of the control plane and the gateways: the gateway's `/stats`, `POST /stop` and `POST /broadcast` need it in the `x-talowa-control-secret` header, and fleet commands on Redis are signed with it (HMAC-SHA256). Empty: those routes answer 403 and fleet commands are ignored. At least 32 random bytes; a firebase-functions secret / environment variable, never committed."),
  maxPendingPackets: setting("MAX_PENDING_PACKETS", 5_000, count, "A client whose unsent backlog passes this many packets is disconnected (it stopped reading)."),
  maxBufferedBytes: setting("MAX_BUFFERED_BYTES", 8 * 1024 * 1024, count, "... or this many buffered bytes."),
  backpressureCheckMs: setting("BACKPRESSURE_CHECK_MS", 1_000, ms, "How often backlogs are checked."),

  // --- auth -----------------------------------------------------------------------------------
  checkRevoked: setting("CHECK_REVOKED", true, z.boolean(), "Ask Firebase Auth whether the token was revoked or the user disabled (one lookup per connection)."),
  tokenExpiryLeadMs: setting("TOKEN_EXPIRY_LEAD_MS", 60_000, z.number().int().min(0), "`token_expiring` is sent this long before the socket's ID token expires; the client answers `refresh_token`."),
  tokenExpiryGraceMs: setting("TOKEN_EXPIRY_GRACE_MS", 10_000, z.number().int().min(0).max(300_000), "A socket whose token expired without `refresh_token` is disconnected (TOKEN_EXPIRED) this long after `exp`."),
  sessionRecheckMs: setting("SESSION_RECHECK_MS", 60_000, z.number().int().positive().max(300_000), "How often live sessions are re-verified with Firebase Auth (disabled accounts, revoked tokens); at most 5 minutes."),
  sessionRecheckCallsPerSecond: setting("SESSION_RECHECK_CALLS_PER_SECOND", 5, z.number().int().positive().max(100), "Most Auth `getUsers` calls (100 uids each) one instance makes per second while re-verifying."),
  projectId: setting("FIREBASE_PROJECT_ID", "", z.string(), "Firebase project id; tokens issued for any other project are refused. Empty: from the environment."),

  // --- connection budgets (issue 12) ---------------------------------------------------------
  maxSocketsPerUser: setting("MAX_SOCKETS_PER_USER", 10, count, "Most live sockets one user may hold across every instance (shared through Redis, per instance without it); a further connection is refused with `connect_error` TOO_MANY_CONNECTIONS until one closes."),
  rateLimitMaxConnections: setting("RATE_LIMIT_MAX_CONNECTIONS", 30, count, "Connection attempts one user may make per RATE_LIMIT_WINDOW (after the token check); past it `connect_error` RATE_LIMITED with retryAfterMs."),
  rateLimitMaxConnectionsPerIp: setting("RATE_LIMIT_MAX_CONNECTIONS_PER_IP", 300, count, "Connection attempts from one IP address per RATE_LIMIT_WINDOW, checked before the token is verified; higher than the per-user figure because whole villages share one carrier-grade NAT address."),
  maxRefusedCallsPerMinute: setting("MAX_REFUSED_CALLS_PER_MINUTE", 600, z.number().int().min(0), "A socket whose calls were refused more than this many times within a minute (RATE_LIMITED, INVALID_ARGUMENT or PAYLOAD_TOO_LARGE, unknown events) keeps calling while told to wait or keeps sending what no call accepts: it gets `session_ended { reason: \"CALL_FLOOD\" }` and is disconnected; its account's connections are then refused for CALL_FLOOD_PENALTY. 0: never."),
  callFloodPenaltyMs: setting("CALL_FLOOD_PENALTY", 60_000, ms, "After a CALL_FLOOD cut-off, how long (milliseconds) every connection attempt of that account is refused `connect_error` RATE_LIMITED (reason CONNECTION_RATE, retryAfterMs: what is left), on every instance sharing Redis."),
  rateLimitWindowMs: setting("RATE_LIMIT_WINDOW", 60_000, ms, "The window (milliseconds) of RATE_LIMIT_MAX_CONNECTIONS and RATE_LIMIT_MAX_CONNECTIONS_PER_IP."),
  trustProxy: setting("TRUST_PROXY", 0, z.number().int().min(0).max(10), "How many proxies in front of the gateway append to X-Forwarded-For (Cloud Run, a load balancer: 1). The client address for the per-IP rate is the entry that many places from the right; 0 (default) ignores the header and uses the socket's peer address (a client can forge the header)."),
  maxIdleTimeMs: setting("MAX_IDLE_TIME", 30 * 60_000, z.number().int().min(0), "A socket that sends no client event except heartbeat and refresh_token (transport pings do not count) for this many milliseconds gets `session_ended { reason: \"IDLE_TIMEOUT\" }` and is disconnected; apps reconnect when the user returns. 0 never."),

  // --- backends -------------------------------------------------------------------------------
  redisUrl: setting("REDIS_URL", "", z.union([z.literal(""), z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://")]), "Redis URL for presence, rate limits, sequence numbers and cross-instance fan-out; empty runs without Redis (in memory). A plain environment variable (it may carry a password), never a committed param."),
  adapter: setting("SOCKET_ADAPTER", "sharded" as "sharded" | "classic", z.enum(["sharded", "classic"]), "Socket.IO Redis adapter between instances. `sharded` (Redis 7 sharded pub/sub, one channel per room, subscriptionMode dynamic): an instance receives only the traffic of rooms it holds. `classic`: every instance receives every broadcast; kept only to measure the difference (docs/SCALING.md)."),
  pushProvider: setting("PUSH_PROVIDER", "none" as "fcm" | "none", z.enum(["fcm", "none"]), "Push to devices with no live socket: `fcm` (firebase-admin messaging, the default credentials need the Firebase Cloud Messaging API Admin role) in production; `none` sends nothing (local runs; tests inject a recording sender)."),
  maxDevicesPerUser: setting("MAX_DEVICES_PER_USER", 10, count, "Push tokens kept per user; registering one more drops the least recently seen."),
  messageStore: setting("MESSAGE_STORE", "firestore" as "firestore" | "memory", z.enum(["firestore", "memory"]), "Where messages are stored: `firestore` in every real deployment, `memory` for single-process runs and benchmarks."),
  storeTimeoutMs: setting("STORE_TIMEOUT_MS", 10_000, ms, "A store call (Firestore) that takes longer fails with UNAVAILABLE; a retry with the same clientId is safe."),
  maxInFlightStoreOps: setting("MAX_IN_FLIGHT_STORE_OPS", 400, count, "Load shedding: store operations (sends, receipts, history) in flight at once on this instance; past it a send is refused at once with UNAVAILABLE and retryAfterMs instead of queueing (clients retry with the same clientId)."),
  maxPendingAdmissions: setting("MAX_PENDING_ADMISSIONS", 500, count, "Load shedding: connections being admitted at once (token check and the reads before auth_success); past it a connection is refused at once with UNAVAILABLE and retryAfterMs (a reconnect storm is admitted at the rate the instance sustains)."),
  maxEventLoopLagMs: setting("MAX_EVENT_LOOP_LAG_MS", 200, ms, "Load shedding: while the event loop lags more than this (the CPU is saturated), new sends are refused at once with UNAVAILABLE and retryAfterMs."),
  shedRetryAfterMs: setting("SHED_RETRY_AFTER_MS", 500, ms, "Load shedding: the retryAfterMs a refused send or connection is given."),
  userRecordsFlushMs: setting("USER_RECORDS_FLUSH_MS", 500, ms, "`users/{uid}` presence fields (lastLoginAt, lastActiveAt, lastSeen, chosen status) touched within this window are written together in batched commits, off the hot path."),
  groupCommitWindowMs: setting("GROUP_COMMIT_WINDOW_MS", 2, z.number().int().min(0).max(50), "Group commit (Firestore store): how long the first message of a batch waits for concurrent sends to share its commit; 0: only sends of the same tick. Every message is still acked only after its own commit."),
  groupCommitMaxMessages: setting("GROUP_COMMIT_MAX_MESSAGES", 100, z.number().int().min(1).max(500), "Group commit: a batch commits at once when it holds this many messages (1 turns group commit off)."),
  groupCommitMaxWrites: setting("GROUP_COMMIT_MAX_WRITES", 500, z.number().int().min(1).max(500), "Group commit: most writes of one batched commit (message docs, moderation docs, offline-queue entries); Firestore allows 500."),

  // --- messaging ------------------------------------------------------------------------------
  rateLimits: setting(
    "RATE_LIMITS",
    {
      text: { limit: 60, windowMs: 60_000 },
      image: { limit: 10, windowMs: 60_000 },
      document: { limit: 5, windowMs: 60_000 },
      voice: { limit: 20, windowMs: 60_000 },
      emergency: { limit: 3, windowMs: 60_000 },
      typing: { limit: 10, windowMs: 10_000 },
      block: { limit: 30, windowMs: 60_000 },
      // --- issue 12: a budget for every client call (SUP Messenger's table where it has one) ---
      typing_stop: { limit: 20, windowMs: 10_000 },
      mark_delivered: { limit: 100, windowMs: 60_000 },
      mark_read: { limit: 100, windowMs: 60_000 },
      get_receipts: { limit: 60, windowMs: 60_000 },
      update_presence: { limit: 20, windowMs: 60_000 },
      get_presence: { limit: 30, windowMs: 60_000 },
      presence_subscribe: { limit: 30, windowMs: 60_000 },
      presence_unsubscribe: { limit: 60, windowMs: 60_000 },
      set_presence_privacy: { limit: 20, windowMs: 60_000 },
      create_group: { limit: 10, windowMs: 60_000 },
      add_members: { limit: 30, windowMs: 60_000 },
      remove_members: { limit: 30, windowMs: 60_000 },
      fetch_history: { limit: 60, windowMs: 60_000 },
      list_conversations: { limit: 20, windowMs: 60_000 },
      list_invitations: { limit: 20, windowMs: 60_000 },
      accept_invitation: { limit: 30, windowMs: 60_000 },
      decline_invitation: { limit: 60, windowMs: 60_000 },
      heartbeat: { limit: 30, windowMs: 60_000 },
      reaction: { limit: 50, windowMs: 60_000 },
      call_initiate: { limit: 5, windowMs: 60_000 },
      // --- reach: call signaling (a call exchanges a few answers and tens of ICE candidates) ---
      call_answer: { limit: 30, windowMs: 60_000 },
      call_reject: { limit: 30, windowMs: 60_000 },
      call_end: { limit: 30, windowMs: 60_000 },
      call_ice_candidate: { limit: 300, windowMs: 60_000 },
      // --- reach: notification center ---
      get_notifications: { limit: 60, windowMs: 60_000 },
      mark_notification_read: { limit: 120, windowMs: 60_000 },
      clear_notification: { limit: 120, windowMs: 60_000 },
      clear_all_notifications: { limit: 10, windowMs: 60_000 },
      // issue 14: edits and deletions are sequenced conversation events (a store commit each)
      edit_message: { limit: 30, windowMs: 60_000 },
      delete_message: { limit: 30, windowMs: 60_000 },
      // find_user and get_profiles share one budget (guessing emails in bulk must be slow)
      lookup: { limit: 30, windowMs: 60_000 },
    } as Record<string, { limit: number; windowMs: number }>,
    z.record(z.string(), rateRule),
    "Calls allowed per user in a window, by rule name: message types (text, image ...) and call names (every client call consumes the rule named like the event unless its spec names another). JSON; given rules replace the defaults of the same name. Defaults in docs/PROTOCOL.md (Limits).",
  ),
  messageIdSecret: setting("MESSAGE_ID_SECRET", "", z.string(), "Key of message ids (HMAC-SHA256 of sender uid and clientId), shared by every gateway instance; without it a member could compute which member sent an anonymous message. Empty: CONTROL_SECRET is used; with neither, anonymous messages are refused (UNAVAILABLE). Changing it only changes the ids of new messages."),
  maxContentBytes: setting("MAX_CONTENT_BYTES", 64 * 1024, count, "Largest message `content` in bytes (UTF-8); media travel as references, not inline."),
  maxMetadataBytes: setting("MAX_METADATA_BYTES", 4 * 1024, count, "Largest `metadata` object, serialised as JSON, in bytes."),
  maxGroupMembers: setting("MAX_GROUP_MEMBERS", 1_000, z.number().int().min(2), "Most members a group may have (create_group, add_members)."),
  historyPageMax: setting("HISTORY_PAGE_MAX", 100, count, "Most messages one `fetch_history` call returns."),
  offlineFlushLimit: setting("OFFLINE_FLUSH_LIMIT", 500, count, "Most offline-queue entries delivered at connect; the rest follow once those are marked delivered."),
  offlineRetentionDays: setting("OFFLINE_RETENTION_DAYS", 7, count, "Delivered offline-queue entries are deleted after this many days (cleanup function and TTL policy).", { param: true }),
  typingTtlMs: setting("TYPING_TTL_MS", 5_000, ms, "A typing indicator disappears after this long without a refresh."),
  membershipCacheMs: setting("MEMBERSHIP_CACHE_MS", 60_000, z.number().int().min(0), "How long this instance trusts its cached copy of a conversation's members (changes invalidate at once)."),
  emergencyRoles: setting("EMERGENCY_ROLES", ["coordinator", "admin"] as string[], roles, "Roles (custom claims) that may send `emergency` messages."),
  announcementRoles: setting("ANNOUNCEMENT_ROLES", ["coordinator", "admin"] as string[], roles, "Roles that may create announcement groups."),
  moderatorRoles: setting("MODERATOR_ROLES", ["admin"] as string[], roles, "Roles that may add and remove members of any group (moderation)."),

  // --- consent (issue 12) --------------------------------------------------------------------
  consentDirectMessages: setting("CONSENT_DIRECT_MESSAGES", "everyone" as "everyone" | "shared_group", z.enum(["everyone", "shared_group"]), "Who may message a user first (open a direct conversation): `everyone` (default: in a community app neighbours and coordinators must be reachable; blocking answers abuse) or `shared_group` (only people sharing a group with them). Replies in an existing conversation are always allowed."),
  consentGroupAdds: setting("CONSENT_GROUP_ADDS", "contacts" as "anyone" | "contacts", z.enum(["anyone", "contacts"]), "Who may add a user to a group directly: `contacts` (default: people sharing a direct conversation with them; MODERATOR_ROLES too) or `anyone`. Any other add becomes an invitation (`group_invitation`) the user accepts or declines."),

  // --- conversation features (issue 14) ------------------------------------------------------
  blockListCacheMs: setting("BLOCK_LIST_CACHE_MS", 60_000, z.number().int().min(0), "How long an instance trusts its cached block lists (changes invalidate on every instance at once)."),
  conversationListPageDefault: setting("CONVERSATION_LIST_PAGE_DEFAULT", 50, count, "Conversations per `list_conversations` page when the call gives a `before` cursor but no `limit` (without either it answers every conversation, summaries only)."),
  conversationListPageMax: setting("CONVERSATION_LIST_PAGE_MAX", 100, count, "Most conversations one `list_conversations` page returns (each costs a few reads: newest messages, the caller's receipt, unread counts)."),
  receiptSummaryMaxMembers: setting("RECEIPT_SUMMARY_MAX_MEMBERS", 200, z.number().int().min(0), "Groups up to this many members send their senders live `receipt_summary` (read by N of M) after receipts (each costs a read of the group's receipts); larger groups only answer `get_receipts`. 0 turns summaries off."),
  maxReactionsPerMessage: setting("MAX_REACTIONS_PER_MESSAGE", 20, count, "Most different reaction values on one message; adding another one is refused (INVALID_ARGUMENT)."),
  messageEditWindowSeconds: setting("MESSAGE_EDIT_WINDOW", 900, z.number().int().min(0), "Seconds after sending during which the sender may `edit_message` a text message (0: edits are off). Deleting has no window."),

  // --- reach: call signaling ------------------------------------------------------------------
  callRingTimeoutMs: setting("CALL_RING_TIMEOUT_MS", 30_000, ms, "A call nobody answers within this long ends as `missed` (call_ended to every device, a missed-call notification to each callee)."),
  callDisconnectGraceMs: setting("CALL_DISCONNECT_GRACE_MS", 10_000, ms, "A call party whose device disconnects has this long to come back (a new connection of the same user takes its place) before the call ends as `disconnected`."),
  callMaxDurationMs: setting("CALL_MAX_DURATION_MS", 4 * 3_600_000, ms, "An active call's shared state expires after this long untouched (an instance that crashed mid-call cannot keep its parties busy forever)."),
  callMaxCallees: setting("CALL_MAX_CALLEES", 16, z.number().int().min(1).max(100), "Most users one `call_initiate` rings (calleeIds, or the other members of the conversation)."),
  notificationRetentionDays: setting("NOTIFICATION_RETENTION_DAYS", 30, count, "Notification-center entries carry `expireAt` this many days after creation; the Firestore TTL policy on `notifications.expireAt` deletes them (docs/DATA-MODEL.md)."),
  notificationPageMax: setting("NOTIFICATION_PAGE_MAX", 50, count, "Most notifications one `get_notifications` call returns (also the default `limit`)."),

  // --- presence -------------------------------------------------------------------------------
  heartbeatIntervalMs: setting("HEARTBEAT_INTERVAL_MS", 15_000, ms, "How often clients should send a presence heartbeat; told to them in `auth_success`."),
  presenceTtlMs: setting("PRESENCE_TTL_MS", 45_000, ms, "A connection without a heartbeat for this long counts as gone; told to clients in `auth_success`."),
  presenceSweepIntervalMs: setting("PRESENCE_SWEEP_INTERVAL_MS", 5_000, ms, "How often each instance looks for expired connections (one instance at a time sweeps, under a Redis lock)."),
  presenceIdleAfterMs: setting("PRESENCE_IDLE_AFTER_MS", 300_000, ms, "A user whose connections all saw no activity (or are in the background) for this long shows as away."),
  presenceLastActiveWriteMs: setting("PRESENCE_LAST_ACTIVE_WRITE_MS", 60_000, ms, "`users/{uid}.lastActiveAt` is written at most this often per user."),
  presenceRedisTimeoutMs: setting("PRESENCE_REDIS_TIMEOUT_MS", 2_000, ms, "Longest wait for a Redis presence command before the instance falls back to in-memory presence."),
  presenceMaxQueryUsers: setting("PRESENCE_MAX_QUERY_USERS", 500, z.number().int().min(1).max(5_000), "Most users a client may ask about in one `get_presence` call or follow through `presence_subscribe`."),
  presenceLookupCacheMs: setting("PRESENCE_LOOKUP_CACHE_MS", 30_000, z.number().int().min(0), "How long a user's last-seen lookup (users/{uid}) is cached, including \"no such user\"; bounds the Firestore reads of get_presence / presence_subscribe."),
  presenceLookupConcurrency: setting("PRESENCE_LOOKUP_CONCURRENCY", 4, count, "Most last-seen lookups (Firestore getAll of at most 100 ids) one instance runs at once; further ones wait, so one user's large queries cannot starve the store."),

  // --- HTTP API (the `api` function, docs/HTTP-API.md) -----------------------------------------
  httpMaxBodyBytes: setting("HTTP_MAX_BODY_BYTES", 16 * 1024, z.number().int().min(256).max(10 * 1024 * 1024), "Largest request body of the HTTP API in bytes; larger ones answer 413 PAYLOAD_TOO_LARGE."),
  httpBackendTimeoutMs: setting("HTTP_BACKEND_TIMEOUT_MS", 5_000, ms, "A Firestore or Redis call of the HTTP API slower than this answers 503 UNAVAILABLE (never a hang)."),
  httpRateLimits: setting(
    "HTTP_RATE_LIMITS",
    {
      default: { limit: 120, windowMs: 60_000 },
      presenceUser: { limit: 10, windowMs: 60_000 },
      presenceBatch: { limit: 30, windowMs: 60_000 },
      presenceList: { limit: 30, windowMs: 60_000 },
      activity: { limit: 60, windowMs: 60_000 },
      admin: { limit: 60, windowMs: 60_000 },
    } as Record<string, { limit: number; windowMs: number }>,
    z.record(z.string(), rateRule),
    "HTTP API requests per user in a window, by route group: presenceUser (one user's presence, the spec's 10 a minute), presenceBatch, presenceList (online list and count), activity (POST /activity), admin (analytics), default (the rest). JSON; given groups replace the defaults of the same name. Shared through Redis.",
  ),
  httpConversationsPageMax: setting("HTTP_CONVERSATIONS_PAGE_MAX", 50, z.number().int().min(1).max(500), "Most conversations per page of `GET /conversations`."),
  httpMessagesPageMax: setting("HTTP_MESSAGES_PAGE_MAX", 100, z.number().int().min(1).max(500), "Most messages per page of `GET /conversations/:id`."),
  httpParticipantsMax: setting("HTTP_PARTICIPANTS_MAX", 50, z.number().int().min(1).max(1_000), "Most participants (with presence) shown by `GET /conversations/:id`; `memberCount` counts all."),
  httpListParticipantsMax: setting("HTTP_LIST_PARTICIPANTS_MAX", 10, z.number().int().min(1).max(100), "Most participants shown per conversation in the `GET /conversations` list."),
  httpContactsCacheMs: setting("HTTP_CONTACTS_CACHE_MS", 30_000, z.number().int().min(0), "How long each API instance trusts its cached list of a user's conversation partners (whose presence the user may see)."),
  httpOnlinePageMax: setting("HTTP_ONLINE_PAGE_MAX", 200, z.number().int().min(1).max(1_000), "Most users per page of `GET /presence/online`."),

  // --- activity log and analytics (docs/HTTP-API.md) ------------------------------------------
  activityLogEnabled: setting("ACTIVITY_LOG_ENABLED", true, z.boolean(), "The gateway writes the activity log (login, logout with duration, message_sent, group_created)."),
  activityRetentionDays: setting("ACTIVITY_RETENTION_DAYS", 90, z.number().int().min(1).max(3_650), "Activity entries and daily active-user marks are deleted this many days after they happened (Firestore TTL policy on `expireAt`).", { param: true }),
  activityActions: setting(
    "ACTIVITY_ACTIONS",
    ["app_opened", "app_backgrounded", "profile_viewed", "video_posted", "video_watched", "livestream_started", "livestream_ended", "comment_posted", "user_followed", "call_started", "call_ended"] as string[],
    z.array(z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, "actions are lower_snake_case, at most 50 characters")),
    "Actions apps may log with `POST /activity` (comma-separated); the gateway's own (login, logout, message_sent, group_created) are reserved.",
  ),
  activityMaxMetadataBytes: setting("ACTIVITY_MAX_METADATA_BYTES", 1_024, z.number().int().min(0).max(64 * 1024), "Largest `metadata` of an activity entry, serialised as JSON, in bytes."),
  activityFlushMs: setting("ACTIVITY_FLUSH_MS", 2_000, ms, "The gateway buffers its activity entries and writes them in batched commits this often (or every 200 entries)."),
  activityBufferMax: setting("ACTIVITY_BUFFER_MAX", 10_000, count, "Most activity entries waiting for a commit; beyond it (Firestore slow or down) new entries are dropped and counted."),
  activityCounterShards: setting("ACTIVITY_COUNTER_SHARDS", 4, z.number().int().min(1).max(100), "Each day's activity counters are spread over this many documents (summed when read), so a busy day writes none of them more than about once a second."),
  activityCountryHeaders: setting(
    "ACTIVITY_COUNTRY_HEADERS",
    ["x-appengine-country", "x-client-region"] as string[],
    z.array(z.string().min(1)),
    "Request headers holding the caller's country (ISO 3166-1 alpha-2), first present wins: Cloud Functions adds X-AppEngine-Country; an external HTTPS load balancer can add X-Client-Region. Analytics only, never access: list only headers your edge sets and strips from clients.",
  ),
  activityRegionHeaders: setting("ACTIVITY_REGION_HEADERS", ["x-appengine-region", "x-client-region-subdivision"] as string[], z.array(z.string().min(1)), "Request headers holding the caller's region or subdivision, first present wins."),

  // --- control plane (Cloud Functions) --------------------------------------------------------
  gatewayMode: setting("GATEWAY_MODE", "single" as "single" | "fleet", z.enum(["single", "fleet"]), "single: the gateway runs inside websocketServer (emulator, one host); fleet: standalone instances controlled through Redis.", { param: true }),
  controlRoles: setting("CONTROL_ROLES", ["admin"] as string[], roles, "Roles (custom claims `admin: true`, `role` or `roles`) that may start, stop and broadcast; others see liveness only."),
  idleShutdownMinutes: setting("IDLE_SHUTDOWN_MINUTES", 30, z.number().int().min(0), "keepWebSocketAlive stops a single-host gateway without clients for this long; 0 never.", { param: true }),
  cleanupMinIntervalSeconds: setting("CLEANUP_MIN_INTERVAL_SECONDS", 300, z.number().int().min(0), "At most one offline-queue sweep per function instance in this interval.", { param: true }),
  broadcastsPerMinute: setting("BROADCASTS_PER_MINUTE", 3, count, "Emergency broadcasts per caller per minute.", { param: true }),
};

type Settings = typeof settings;
export type SettingName = keyof Settings;
export type GatewayConfig = { [K in SettingName]: z.output<Settings[K]["schema"]> };

const names = Object.keys(settings) as SettingName[];

export const defaultConfig = Object.fromEntries(names.map((k) => [k, settings[k].default])) as GatewayConfig;

/** Environment variable of each setting. */
export const envNames = Object.fromEntries(names.map((k) => [k, settings[k].env])) as Record<SettingName, string>;

const configSchema = z
  .object(Object.fromEntries(names.map((k) => [k, settings[k].schema])) as { [K in SettingName]: Settings[K]["schema"] })
  .strict()
  .refine((c) => c.presenceTtlMs > c.heartbeatIntervalMs, {
    message: "presenceTtlMs must be longer than heartbeatIntervalMs",
    path: ["presenceTtlMs"],
  })
  // A message document must stay under Firestore's 1 MiB (the rest of the document is far below 64 KiB).
  .refine((c) => c.maxContentBytes + c.maxMetadataBytes <= 1_048_576 - 64 * 1024, {
    message: "maxContentBytes + maxMetadataBytes must leave a message document under Firestore's 1 MiB",
    path: ["maxContentBytes"],
  });

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid gateway configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Merges overrides into the defaults and validates the result; throws ConfigError listing every bad field. */
export function resolveConfig(overrides: Partial<GatewayConfig> = {}, nameOf: (key: string) => string = (key) => key): GatewayConfig {
  const given = stripUndefined(overrides);
  const merged = {
    ...defaultConfig,
    ...given,
    rateLimits: { ...defaultConfig.rateLimits, ...given.rateLimits },
    httpRateLimits: { ...defaultConfig.httpRateLimits, ...given.httpRateLimits },
  };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${nameOf(String(i.path[0] ?? "config"))}: ${i.message}`));
  }
  return result.data as GatewayConfig;
}

/**
 * Reads the settings present in `env`. Numbers and booleans that do not parse are reported by name,
 * so `PORT=abc` fails at start with "PORT (port): expected a whole number, got "abc"".
 * Inside Cloud Functions the runtime owns PORT and HOST: there (`host: "functions"`) the gateway's port
 * and interface come from GATEWAY_PORT and GATEWAY_HOST instead.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, options: { host?: "process" | "functions" } = {}): GatewayConfig {
  const source = options.host === "functions" ? { ...env, PORT: env.GATEWAY_PORT || "8081", HOST: env.GATEWAY_HOST || "127.0.0.1" } : env;
  const overrides: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of names) {
    const raw = source[envNames[key]];
    if (raw === undefined || raw === "") continue;
    const parsed = parseLike(defaultConfig[key], raw.trim());
    if (parsed === undefined) problems.push(`${envNames[key]} (${key}): expected ${describe(defaultConfig[key])}, got "${raw}"`);
    else overrides[key] = parsed;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolveConfig(overrides as Partial<GatewayConfig>, (key) => (key in envNames ? `${envNames[key as SettingName]} (${key})` : key));
}

function parseLike(example: unknown, raw: string): unknown {
  if (typeof example === "number") {
    const n = Number(raw);
    return /^-?\d+$/.test(raw) && Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof example === "boolean") {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return undefined;
  }
  if (Array.isArray(example)) return raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (typeof example === "object" && example !== null) {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return raw;
}

function describe(example: unknown): string {
  if (typeof example === "number") return "a whole number";
  if (typeof example === "boolean") return "true or false";
  if (Array.isArray(example)) return "a comma-separated list";
  if (typeof example === "object" && example !== null) return "JSON";
  return "a string";
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The activity log port (spec "Phase 3", docs/HTTP-API.md): who did what and when, for the admin
 * analytics. Entries never hold message content. Adapters: Firestore (buffered, batched commits,
 * pre-aggregated daily counters) and memory (single-process runs, tests).
 */

/** Actions only the gateway writes; apps may not log them through `POST /activity`. */
export const GATEWAY_ACTIONS = ["login", "logout", "message_sent", "group_created"] as const;

export const DEVICE_TYPES = ["ios", "android", "web", "unknown"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** Where a request or a connection came from, as far as its headers tell. */
export interface ClientContext {
  deviceType?: DeviceType;
  /** ISO 3166-1 alpha-2, upper case. */
  countryCode?: string;
  region?: string;
}

export interface ActivityEvent extends ClientContext {
  userId: string;
  action: string;
  /** When it happened, ms since epoch (the writer's clock). */
  at: number;
  targetType?: string;
  targetId?: string;
  /** Bounded by the writer; `logout` carries `{ durationSeconds, sessionStartedAt }`. */
  metadata?: Record<string, unknown>;
}

export interface StoredActivity extends ActivityEvent {
  id: string;
}

export interface ActivityLogStats {
  /** Entries waiting for the next commit. */
  buffered: number;
  written: number;
  /** Entries given up: the buffer was full, or their commit failed or timed out (Firestore down). */
  dropped: number;
  failedCommits: number;
}

/** Writing side. Logging never blocks or fails the user's action: `record` returns at once and never throws. */
export interface ActivityLog {
  record(event: ActivityEvent): void;
  /** Stores these entries now, in one commit per chunk; rejects when they could not be stored. */
  write(events: ActivityEvent[]): Promise<void>;
  /** Commits what is buffered (failures are counted as dropped, never thrown). */
  flush(): Promise<void>;
  /** A last flush, then no more timers. */
  stop(): Promise<void>;
  stats(): ActivityLogStats;
}

/** Entries at `before` already returned (ties on `at`), so the next page starts right after them. */
export interface ActivityCursor {
  before: number;
  skip: string[];
}

export interface ActivityQuery {
  userId?: string;
  action?: string;
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  limit: number;
  cursor?: ActivityCursor;
}

export interface ActivityPage {
  /** Newest first. */
  activities: StoredActivity[];
  /** Entries matching the filters in the whole range (not just this page). */
  total: number;
  next?: ActivityCursor;
}

export interface HourCounters {
  sessions: number;
  endedSessions: number;
  sessionSeconds: number;
  events: number;
}

/** One UTC day's counters, summed over the day's shards. Sessions count at the hour they started. */
export interface DailyCounters {
  day: string;
  sessions: number;
  endedSessions: number;
  sessionSeconds: number;
  activeUsers: number;
  actions: Record<string, number>;
  /** "00" … "23" (UTC) → that hour's counters; hours without activity are absent. */
  hours: Record<string, HourCounters>;
}

/** Reading side (admin analytics). Never scans the log for figures: counters come pre-aggregated. */
export interface ActivityReader {
  page(query: ActivityQuery): Promise<ActivityPage>;
  /** Days from `fromDay` to `toDay` (inclusive, "YYYY-MM-DD") that have counters, oldest first. */
  daily(fromDay: string, toDay: string): Promise<DailyCounters[]>;
}

// --- counters: one derivation for every adapter ---------------------------------------------

export const DAY_MS = 86_400_000;

export const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
export const hourOf = (at: number) => new Date(at).toISOString().slice(11, 13);
export const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

/** A numeric increment of one counter of one day; `field` is a flat field name of the day's document. */
export interface CounterIncrement {
  day: string;
  field: string;
  by: number;
}

/**
 * Counter fields of a day document. Flat names (`action_login`, `h09_sessions`): top-level increments
 * work everywhere, and the Node emulator implements `FieldValue.increment` only on top-level fields.
 */
export const counterField = {
  action: (action: string) => `action_${action}`,
  hour: (hour: string, counter: keyof HourCounters) => `h${hour}_${counter}`,
};

/**
 * What one entry adds to the counters: every entry counts under its action and its hour's `events`;
 * a `login` is a session started at its hour; a `logout` with a duration ends one, added to the hour
 * (and day) its session started, so a session is one session wherever midnight falls.
 */
export function countersOf(event: ActivityEvent): CounterIncrement[] {
  const day = dayOf(event.at);
  const hour = hourOf(event.at);
  const out: CounterIncrement[] = [
    { day, field: counterField.action(event.action), by: 1 },
    { day, field: counterField.hour(hour, "events"), by: 1 },
  ];
  if (event.action === "login") out.push({ day, field: "sessions", by: 1 }, { day, field: counterField.hour(hour, "sessions"), by: 1 });
  const session = endedSession(event);
  if (session) {
    const startDay = dayOf(session.startedAt);
    const startHour = hourOf(session.startedAt);
    out.push(
      { day: startDay, field: "endedSessions", by: 1 },
      { day: startDay, field: "sessionSeconds", by: session.seconds },
      { day: startDay, field: counterField.hour(startHour, "endedSessions"), by: 1 },
      { day: startDay, field: counterField.hour(startHour, "sessionSeconds"), by: session.seconds },
    );
  }
  return out;
}

function endedSession(event: ActivityEvent): { seconds: number; startedAt: number } | undefined {
  if (event.action !== "logout") return undefined;
  const seconds = Number(event.metadata?.durationSeconds);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  const startedAt = Number(event.metadata?.sessionStartedAt);
  return { seconds: Math.round(seconds), startedAt: Number.isFinite(startedAt) ? startedAt : event.at - seconds * 1000 };
}

/** Sums increments per day and field: what each day document gains in one commit. */
export function foldIncrements(increments: CounterIncrement[]): Map<string, Record<string, number>> {
  const byDay = new Map<string, Record<string, number>>();
  for (const { day, field, by } of increments) {
    const fields = byDay.get(day) ?? {};
    byDay.set(day, fields);
    fields[field] = (fields[field] ?? 0) + by;
  }
  return byDay;
}

const HOUR_FIELD = /^h(\d{2})_(sessions|endedSessions|sessionSeconds|events)$/;

/** Adds one day document's (or shard's) flat counter fields into a day's total. */
export function addCounters(total: DailyCounters, fields: Record<string, unknown>): DailyCounters {
  for (const [field, raw] of Object.entries(fields)) {
    const value = num(raw);
    if (field === "sessions" || field === "endedSessions" || field === "sessionSeconds" || field === "activeUsers") total[field] += value;
    else if (field.startsWith("action_")) total.actions[field.slice(7)] = (total.actions[field.slice(7)] ?? 0) + value;
    else {
      const hour = HOUR_FIELD.exec(field);
      if (!hour) continue;
      const into = (total.hours[hour[1]] ??= { sessions: 0, endedSessions: 0, sessionSeconds: 0, events: 0 });
      into[hour[2] as keyof HourCounters] += value;
    }
  }
  return total;
}

export const emptyCounters = (day: string): DailyCounters => ({
  day,
  sessions: 0,
  endedSessions: 0,
  sessionSeconds: 0,
  activeUsers: 0,
  actions: {},
  hours: {},
});

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Page of entries (newest first) from a list already ordered and filtered, honouring the cursor's ties. */
export function pageAfterCursor(ordered: StoredActivity[], limit: number, cursor?: ActivityCursor): { activities: StoredActivity[]; next?: ActivityCursor } {
  const skip = new Set(cursor?.skip ?? []);
  const rest = ordered.filter((a) => !(cursor && a.at === cursor.before && skip.has(a.id)));
  const activities = rest.slice(0, limit);
  if (rest.length <= limit || activities.length === 0) return { activities };
  const last = activities[activities.length - 1].at;
  const tied = activities.filter((a) => a.at === last).map((a) => a.id);
  const carried = cursor && cursor.before === last ? cursor.skip : [];
  return { activities, next: { before: last, skip: [...carried, ...tied] } };
}

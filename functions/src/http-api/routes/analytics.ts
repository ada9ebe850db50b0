import { z } from "zod";
import { DAY_MS, dayOf, DailyCounters, dayStart } from "../../ports/activity-log";
import { firestoreCall } from "../backend";
import { decodeCursor, encodeCursor, parseInput, queryLimit, queryRange, queryString, userIdSchema } from "../input";
import type { Route } from "../types";

/** Analytics ranges: the last 7 days by default, at most a year (retention is usually shorter). */
const DEFAULT_DAYS = 7;
const MAX_DAYS = 366;
const MAX_PAGE = 500;

const actionSchema = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, "lower_snake_case, at most 50 characters");

export const analyticsRoutes: Route[] = [
  {
    /** The log, newest first, filtered by user, action and time; paged with an opaque cursor; `total` over the whole range. */
    method: "GET",
    pattern: "/admin/analytics/user-activity",
    limit: "admin",
    admin: true,
    async handler(call) {
      const userId = optional(call.query, "userId", userIdSchema);
      const action = optional(call.query, "action", actionSchema);
      const limit = queryLimit(call.query, 100, MAX_PAGE);
      const { from, to } = queryRange(call.query, call.now, DEFAULT_DAYS, MAX_DAYS);
      const cursor = decodeCursor(call.query);
      const page = await firestoreCall(call.deps, call.deps.analytics.page({ userId, action, from, to, limit, cursor }), "Firestore (activity log)");
      const activities = page.activities.map((a) => ({ ...a, timestamp: new Date(a.at).toISOString() }));
      return {
        body: { total: page.total, activities, nextCursor: encodeCursor(page.next), range: { start: iso(from), end: iso(to) } },
      };
    },
  },
  {
    /**
     * Sessions for a range of UTC days from the pre-aggregated daily counters (a few documents per day,
     * never the log): total and average duration, active users per day, the hours sessions start in.
     */
    method: "GET",
    pattern: "/admin/analytics/user-sessions",
    limit: "admin",
    admin: true,
    async handler(call) {
      const { from, to } = queryRange(call.query, call.now, DEFAULT_DAYS, MAX_DAYS);
      const lastDay = dayOf(to - 1);
      // Without startDate: the DEFAULT_DAYS UTC days that end with endDate (or today), not a part-day more.
      const firstDay = queryString(call.query, "startDate") === undefined ? dayOf(dayStart(lastDay) - (DEFAULT_DAYS - 1) * DAY_MS) : dayOf(from);
      const today = dayOf(call.now);
      const [days, todays] = await Promise.all([
        firestoreCall(call.deps, call.deps.analytics.daily(firstDay, lastDay), "Firestore (activity counters)"),
        today >= firstDay && today <= lastDay ? Promise.resolve(undefined) : firestoreCall(call.deps, call.deps.analytics.daily(today, today), "Firestore (activity counters)"),
      ]);
      return { body: sessionsReport(days, firstDay, lastDay, (todays ?? days).find((d) => d.day === today)) };
    },
  },
];

export function sessionsReport(days: DailyCounters[], firstDay: string, lastDay: string, today: DailyCounters | undefined) {
  const sum = (pick: (d: DailyCounters) => number) => days.reduce((total, d) => total + pick(d), 0);
  const endedSessions = sum((d) => d.endedSessions);
  const byHour = new Map<number, number>();
  const actions: Record<string, number> = {};
  for (const day of days) {
    for (const [hour, counters] of Object.entries(day.hours)) byHour.set(Number(hour), (byHour.get(Number(hour)) ?? 0) + counters.sessions);
    for (const [action, n] of Object.entries(day.actions)) actions[action] = (actions[action] ?? 0) + n;
  }
  const byDay = new Map(days.map((d) => [d.day, d]));
  const activeUsersPerDay: Array<{ date: string; activeUsers: number; sessions: number }> = [];
  for (let t = Date.parse(`${firstDay}T00:00:00Z`); dayOf(t) <= lastDay; t += DAY_MS) {
    const day = byDay.get(dayOf(t));
    activeUsersPerDay.push({ date: dayOf(t), activeUsers: day?.activeUsers ?? 0, sessions: day?.sessions ?? 0 });
  }
  return {
    range: { startDate: firstDay, endDate: lastDay },
    totalSessions: sum((d) => d.sessions),
    endedSessions,
    averageSessionDuration: endedSessions === 0 ? 0 : Math.round(sum((d) => d.sessionSeconds) / endedSessions),
    activeUsersToday: today?.activeUsers ?? 0,
    activeUsersPerDay,
    topHours: [...byHour.entries()]
      .filter(([, sessions]) => sessions > 0)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([hour, sessions]) => ({ hour, sessions })),
    actions,
  };
}

function optional<T>(query: Record<string, unknown>, name: string, schema: z.ZodType<T>): T | undefined {
  const raw = queryString(query, name);
  return raw === undefined ? undefined : parseInput(schema, raw, name);
}

const iso = (ms: number) => new Date(ms).toISOString();

import {
  ActivityEvent,
  ActivityLog,
  ActivityLogStats,
  ActivityPage,
  ActivityQuery,
  ActivityReader,
  addCounters,
  countersOf,
  DailyCounters,
  dayOf,
  emptyCounters,
  foldIncrements,
  pageAfterCursor,
  StoredActivity,
} from "./activity-log";

/** The activity log in this process: single-process runs (`MESSAGE_STORE=memory`) and tests. Writes at once; keeps the newest `maxEntries` entries (counters cover all). */
export class MemoryActivityLog implements ActivityLog, ActivityReader {
  private readonly entries: StoredActivity[] = [];
  private readonly days = new Map<string, DailyCounters>();
  private readonly marks = new Set<string>();
  private nextId = 0;

  constructor(private readonly maxEntries = 10_000) {}

  record(event: ActivityEvent): void {
    this.store(event);
  }

  async write(events: ActivityEvent[]): Promise<void> {
    events.forEach((event) => this.store(event));
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {}

  stats(): ActivityLogStats {
    return { buffered: 0, written: this.nextId, dropped: 0, failedCommits: 0 };
  }

  async page(query: ActivityQuery): Promise<ActivityPage> {
    const matching = this.entries
      .filter((a) => (!query.userId || a.userId === query.userId) && (!query.action || a.action === query.action))
      .filter((a) => a.at >= query.from && a.at < query.to)
      .sort((a, b) => b.at - a.at);
    const upper = query.cursor ? matching.filter((a) => a.at <= query.cursor!.before) : matching;
    return { ...pageAfterCursor(upper, query.limit, query.cursor), total: matching.length };
  }

  async daily(fromDay: string, toDay: string): Promise<DailyCounters[]> {
    return [...this.days.values()].filter((d) => d.day >= fromDay && d.day <= toDay).sort((a, b) => (a.day < b.day ? -1 : 1));
  }

  private store(event: ActivityEvent): void {
    if (this.entries.length >= this.maxEntries) this.entries.shift();
    this.entries.push({ ...event, id: `a${String(++this.nextId).padStart(12, "0")}` });
    const increments = countersOf(event);
    const mark = `${dayOf(event.at)}_${event.userId}`;
    if (!this.marks.has(mark)) {
      this.marks.add(mark);
      increments.push({ day: dayOf(event.at), field: "activeUsers", by: 1 });
    }
    for (const [day, fields] of foldIncrements(increments)) {
      this.days.set(day, addCounters(this.days.get(day) ?? emptyCounters(day), fields));
    }
  }
}

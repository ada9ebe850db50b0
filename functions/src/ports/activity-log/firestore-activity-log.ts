import { DocumentReference, FieldValue, Firestore, Timestamp } from "firebase-admin/firestore";
import type { Logger } from "../logger";
import {
  ActivityEvent,
  ActivityLog,
  ActivityLogStats,
  ActivityPage,
  ActivityQuery,
  ActivityReader,
  addCounters,
  countersOf,
  DAY_MS,
  DailyCounters,
  dayOf,
  dayStart,
  emptyCounters,
  foldIncrements,
  pageAfterCursor,
  StoredActivity,
} from "./activity-log";

/** The log, the daily counters and the daily active-user marks (docs/DATA-MODEL.md). */
export const ACTIVITY_COLLECTIONS = {
  log: "activity_logs",
  daily: "activity_daily",
  activeUsers: "activity_active_users",
} as const;

/** What a batch and a transaction have in common here. */
interface Writer {
  set(ref: DocumentReference, data: Record<string, unknown>, options?: { merge: boolean }): unknown;
}

/** Entries per commit: with their active-user marks and a few counter documents, well under 500 writes. */
const CHUNK = 200;
/** Remembered (day, user) marks: a user active all day costs one mark lookup per process, not one per entry. */
const MAX_KNOWN_MARKS = 100_000;

export interface FirestoreActivityLogOptions {
  retentionDays: number;
  flushMs: number;
  bufferMax: number;
  shards: number;
  /** A commit slower than this counts as failed (its entries are dropped). */
  timeoutMs: number;
  logger: Logger;
}

/**
 * Activity entries in `activity_logs`, each with `expireAt` for the TTL policy, and per-day counters in
 * `activity_daily/{day}_{shard}` updated with `FieldValue.increment` in the same commit, so analytics
 * read a few counter documents instead of scanning the log. `record` buffers; a timer commits the
 * buffer every `flushMs` in chunks; when Firestore fails, the chunk is dropped and counted, never retried
 * into an ever-growing backlog. The first entry of a user on a day also creates its mark in
 * `activity_active_users/{day}_{uid}` and counts one active user, in one transaction with the chunk.
 */
export class FirestoreActivityLog implements ActivityLog {
  private buffer: ActivityEvent[] = [];
  private readonly counts: ActivityLogStats = { buffered: 0, written: 0, dropped: 0, failedCommits: 0 };
  private readonly knownMarks = new Set<string>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly db: Firestore,
    private readonly options: FirestoreActivityLogOptions,
  ) {}

  record(event: ActivityEvent): void {
    if (this.stopped || this.buffer.length >= this.options.bufferMax) {
      this.counts.dropped += 1;
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length >= CHUNK) setImmediate(() => void this.flush());
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs).unref();
  }

  async write(events: ActivityEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += CHUNK) await this.commit(events.slice(i, i + CHUNK));
  }

  /** One flush at a time; entries recorded meanwhile wait for the next. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.flushBuffer().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0 && !this.stopped) this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs).unref();
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    clearTimeout(this.timer);
  }

  stats(): ActivityLogStats {
    return { ...this.counts, buffered: this.buffer.length };
  }

  private async flushBuffer(): Promise<void> {
    while (this.buffer.length > 0) {
      const chunk = this.buffer.splice(0, CHUNK);
      try {
        await this.commit(chunk);
        if (this.failing) this.options.logger.info("activity log: Firestore writes resumed");
        this.failing = false;
      } catch (error) {
        this.counts.dropped += chunk.length;
        this.counts.failedCommits += 1;
        if (!this.failing) this.options.logger.warn("activity log: commit failed, entries dropped", { dropped: chunk.length, error: String(error) });
        this.failing = true;
      }
    }
  }

  private async commit(events: ActivityEvent[]): Promise<void> {
    if (events.length === 0) return;
    const refs = events.map(() => this.db.collection(ACTIVITY_COLLECTIONS.log).doc());
    const marks = this.unknownMarks(events);
    const shard = Math.floor(Math.random() * this.options.shards);
    const write = (writer: Writer, missing: Array<{ key: string; day: string; userId: string; at: number }>) => {
      events.forEach((event, i) => writer.set(refs[i], this.documentOf(event)));
      const increments = events.flatMap(countersOf);
      for (const mark of missing) {
        writer.set(this.markRef(mark.key), { day: mark.day, userId: mark.userId, at: mark.at, expireAt: this.expiry(mark.at) });
        increments.push({ day: mark.day, field: "activeUsers", by: 1 });
      }
      for (const [day, fields] of foldIncrements(increments)) {
        writer.set(this.db.collection(ACTIVITY_COLLECTIONS.daily).doc(`${day}_${shard}`), { day, start: dayStart(day), shard, ...asIncrements(fields) }, { merge: true });
      }
    };
    const work =
      marks.length === 0
        ? (async () => {
            const batch = this.db.batch();
            write(batch as unknown as Writer, []);
            await batch.commit();
          })()
        : this.db.runTransaction(async (tx) => {
            const found = await tx.getAll(...marks.map((m) => this.markRef(m.key)));
            write(tx as unknown as Writer, marks.filter((_, i) => !found[i].exists));
          });
    await withTimeout(work, this.options.timeoutMs);
    for (const mark of marks) this.remember(mark.key);
    this.counts.written += events.length;
  }

  /** The first entry of each (day, user) in these events whose mark this process has not seen yet. */
  private unknownMarks(events: ActivityEvent[]) {
    const marks = new Map<string, { key: string; day: string; userId: string; at: number }>();
    for (const event of events) {
      const day = dayOf(event.at);
      const key = `${day}_${event.userId}`;
      if (!this.knownMarks.has(key) && !marks.has(key)) marks.set(key, { key, day, userId: event.userId, at: event.at });
    }
    return [...marks.values()];
  }

  private remember(key: string): void {
    if (this.knownMarks.size >= MAX_KNOWN_MARKS) this.knownMarks.clear();
    this.knownMarks.add(key);
  }

  private markRef(key: string): DocumentReference {
    return this.db.collection(ACTIVITY_COLLECTIONS.activeUsers).doc(key);
  }

  private expiry(at: number): Timestamp {
    return Timestamp.fromMillis(at + this.options.retentionDays * DAY_MS);
  }

  private documentOf(event: ActivityEvent): Record<string, unknown> {
    const doc: Record<string, unknown> = { userId: event.userId, action: event.action, at: event.at, expireAt: this.expiry(event.at) };
    for (const key of ["targetType", "targetId", "metadata", "deviceType", "countryCode", "region"] as const) {
      if (event[key] !== undefined) doc[key] = event[key];
    }
    return doc;
  }
}

/** Numbers → `FieldValue.increment`s (written with merge: the other fields stay). */
function asIncrements(fields: Record<string, number>): Record<string, FieldValue> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, FieldValue.increment(value)]));
}

/**
 * Admin analytics queries. Pages use range filters on `at` (`at <= cursor.before`, ties skipped by id)
 * rather than query cursors, which the Node emulator ignores; `total` is a `count()` aggregation.
 * Indexes: `at` alone is automatic; (userId, at), (action, at) and (userId, action, at) are composite
 * indexes in firestore.indexes.json.
 */
export class FirestoreActivityReader implements ActivityReader {
  constructor(private readonly db: Firestore) {}

  async page(query: ActivityQuery): Promise<ActivityPage> {
    let filtered: FirebaseFirestore.Query = this.db.collection(ACTIVITY_COLLECTIONS.log);
    if (query.userId) filtered = filtered.where("userId", "==", query.userId);
    if (query.action) filtered = filtered.where("action", "==", query.action);
    const inRange = filtered.where("at", ">=", query.from).where("at", "<", query.to);
    const upper = query.cursor ? filtered.where("at", ">=", query.from).where("at", "<=", Math.min(query.cursor.before, query.to - 1)) : inRange;
    const fetchCount = query.limit + (query.cursor?.skip.length ?? 0) + 1;
    const [snapshot, count] = await Promise.all([upper.orderBy("at", "desc").limit(fetchCount).get(), inRange.count().get()]);
    const ordered = snapshot.docs.map((doc) => toActivity(doc.id, doc.data()));
    return { ...pageAfterCursor(ordered, query.limit, query.cursor), total: count.data().count };
  }

  async daily(fromDay: string, toDay: string): Promise<DailyCounters[]> {
    const snapshot = await this.db
      .collection(ACTIVITY_COLLECTIONS.daily)
      .where("start", ">=", dayStart(fromDay))
      .where("start", "<=", dayStart(toDay))
      .get();
    const days = new Map<string, DailyCounters>();
    for (const doc of snapshot.docs) {
      const data = doc.data();
      const day = String(data.day);
      days.set(day, addCounters(days.get(day) ?? emptyCounters(day), data));
    }
    return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
  }
}

function toActivity(id: string, data: FirebaseFirestore.DocumentData): StoredActivity {
  const activity: StoredActivity = { id, userId: String(data.userId), action: String(data.action), at: Number(data.at) };
  for (const key of ["targetType", "targetId", "deviceType", "countryCode", "region"] as const) {
    if (typeof data[key] === "string") (activity as unknown as Record<string, unknown>)[key] = data[key];
  }
  if (data.metadata && typeof data.metadata === "object") activity.metadata = data.metadata;
  return activity;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Firestore did not commit within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

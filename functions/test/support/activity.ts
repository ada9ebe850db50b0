import type { ActivityEvent } from "../../src/ports/activity-log";
import { FirestoreActivityLog, FirestoreActivityReader } from "../../src/ports/activity-log/firestore-activity-log";
import { silentLogger } from "../../src/ports/logger";
import { Firestore } from "firebase-admin/firestore";
import { firestore } from "../../src/firebase";
import { environment } from "./environment";

/**
 * A Firestore client of the test project at another address (a TcpProxy in front of the emulator).
 * The client reads FIRESTORE_EMULATOR_HOST when it is built and lets it win over `host`, so it is swapped for the construction.
 */
export function firestoreAt(address: string): Firestore {
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = address;
  try {
    return new Firestore({ projectId: environment().projectId });
  } finally {
    process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}

/** A Firestore activity log on the test Firestore (or another Firestore, e.g. behind a proxy). */
export function firestoreActivityLog(options: Partial<ConstructorParameters<typeof FirestoreActivityLog>[1]> = {}, db = firestore()) {
  const log = new FirestoreActivityLog(db, { retentionDays: 90, flushMs: 50, bufferMax: 10_000, shards: 4, timeoutMs: 5_000, logger: silentLogger, ...options });
  return { log, reader: new FirestoreActivityReader(db) };
}

const at = (day: string, time: string) => Date.parse(`${day}T${time}:00.000Z`);

/** A session of a user: login at `start`, logout `minutes` later, as the gateway writes them. */
export function session(userId: string, day: string, start: string, minutes: number, extra: Partial<ActivityEvent> = {}): ActivityEvent[] {
  const startedAt = at(day, start);
  const durationSeconds = minutes * 60;
  return [
    { userId, action: "login", at: startedAt, metadata: { via: "socket" }, ...extra },
    { userId, action: "logout", at: startedAt + durationSeconds * 1000, metadata: { durationSeconds, sessionStartedAt: startedAt, reason: "client namespace disconnect" }, ...extra },
  ];
}

export const DAY_ONE = "2026-03-02";
export const DAY_TWO = "2026-03-03";

/**
 * A scripted day of activity at known hours (UTC), and one session the next day:
 * day one: 5 sessions (09:00 30 min, 09:15 60 min, 18:00 10 min, 18:05 20 min, 23:50 30 min, ending after
 * midnight) of 4 users, 3 messages; day two: 1 session (08:00 30 min).
 * So day one: 5 sessions, average 1800 s, 4 active users, top hours 9 (2), 18 (2), 23 (1);
 * day two: 1 session, 2 active users (dave logs out after midnight, bob).
 */
export function scriptedDay(users: { alice: string; bob: string; carol: string; dave: string }): ActivityEvent[] {
  const message = (userId: string, time: string, conversationId: string): ActivityEvent => ({
    userId,
    action: "message_sent",
    at: at(DAY_ONE, time),
    targetType: "conversation",
    targetId: conversationId,
    metadata: { conversationId, type: "text" },
  });
  return [
    ...session(users.alice, DAY_ONE, "09:00", 30, { deviceType: "ios", countryCode: "IN" }),
    ...session(users.bob, DAY_ONE, "09:15", 60, { deviceType: "android", countryCode: "IN", region: "Telangana" }),
    ...session(users.alice, DAY_ONE, "18:00", 10, { deviceType: "web" }),
    ...session(users.carol, DAY_ONE, "18:05", 20),
    ...session(users.dave, DAY_ONE, "23:50", 30),
    message(users.alice, "09:05", "dm_a_b"),
    message(users.alice, "09:06", "dm_a_b"),
    message(users.bob, "09:20", "dm_a_b"),
    ...session(users.bob, DAY_TWO, "08:00", 30),
  ];
}

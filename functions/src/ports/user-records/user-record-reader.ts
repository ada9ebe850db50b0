import type { Firestore } from "firebase-admin/firestore";
import type { MemoryUserRecords } from "./memory-user-records";

/** The presence fields of `users/{uid}` as the HTTP API shows them (ms). */
export interface UserRecordFields {
  lastLoginAt?: number;
  lastActiveAt?: number;
  lastSeen?: number;
}

/** Reading side of `users/{uid}` (the gateway writes it through UserRecords). */
export interface UserRecordReader {
  /** Users without a record are absent from the answer. */
  recordsOf(uids: string[]): Promise<Map<string, UserRecordFields>>;
}

const FIELDS = ["lastLoginAt", "lastActiveAt", "lastSeen"] as const;
/** getAll takes many references in one call; chunks keep each request small. */
const CHUNK = 300;

export class FirestoreUserRecordReader implements UserRecordReader {
  constructor(private readonly db: Firestore) {}

  async recordsOf(uids: string[]): Promise<Map<string, UserRecordFields>> {
    const found = new Map<string, UserRecordFields>();
    const unique = [...new Set(uids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += CHUNK) chunks.push(unique.slice(i, i + CHUNK));
    const results = await Promise.all(
      chunks.map((chunk) => this.db.getAll(...chunk.map((uid) => this.db.collection("users").doc(uid)), { fieldMask: [...FIELDS] })),
    );
    for (const doc of results.flat()) {
      if (!doc.exists) continue;
      const fields: UserRecordFields = {};
      for (const field of FIELDS) {
        const value = doc.get(field);
        if (typeof value === "number") fields[field] = value;
      }
      found.set(doc.id, fields);
    }
    return found;
  }
}

/** Reads the in-memory records the memory adapter keeps. */
export class MemoryUserRecordReader implements UserRecordReader {
  constructor(private readonly records: MemoryUserRecords) {}

  async recordsOf(uids: string[]): Promise<Map<string, UserRecordFields>> {
    const found = new Map<string, UserRecordFields>();
    for (const uid of uids) {
      const record = this.records.records.get(uid);
      if (record) found.set(uid, { lastLoginAt: record.lastLoginAt, lastActiveAt: record.lastActiveAt, lastSeen: record.lastSeen });
    }
    return found;
  }
}

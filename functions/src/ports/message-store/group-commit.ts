import type { DocumentReference, Firestore, WriteBatch } from "firebase-admin/firestore";
import { toMessage } from "./message-doc";
import type { StoredMessage } from "./message-store";

/** gRPC status of a `create()` whose document exists. */
export const ALREADY_EXISTS = 6;
/** Firestore's own bound on the writes of one commit. */
export const FIRESTORE_MAX_BATCH_WRITES = 500;
/** Bytes of one commit at most, by default (Firestore refuses requests over 10 MiB). */
export const MAX_COMMIT_BYTES = 4 * 1024 * 1024;

export interface GroupCommitOptions {
  /** How long the first message of a batch waits for neighbours; 0: only those sent in the same tick. */
  windowMs: number;
  /** A batch is committed at once when it holds this many messages. */
  maxMessages: number;
  /** ... or this many writes (message docs, moderation docs, queue entries); at most 500. */
  maxWrites: number;
  /** ... or about this many bytes (Firestore refuses requests over 10 MiB); 4 MiB when not given. */
  maxBytes?: number;
}

/** One message to store: its document, and what else goes into the same commit. */
export interface AppendJob {
  message: StoredMessage;
  ref: DocumentReference;
  /** Writes this job adds (the message `create` included). */
  writes: number;
  /** Rough size of those writes in bytes. */
  bytes: number;
  /** Adds the job's writes to a batch: the message with `create()` (so a duplicate fails), the rest with `set()`. */
  write(batch: WriteBatch): void;
}

export interface AppendResult {
  message: StoredMessage;
  duplicate: boolean;
}

interface Waiting {
  job: AppendJob;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface GroupCommitFigures {
  commits: number;
  messages: number;
  duplicates: number;
  failedCommits: number;
  /** Commits that had to be repeated without the duplicates they held. */
  retries: number;
}

/**
 * Group commit: concurrent appends within a short window share one batched commit, so Firestore (and
 * firebase-admin's gRPC client, the main cost per message in the gateway process) sees one request per
 * batch instead of one per message. Each append still resolves only after its own commit succeeded.
 *
 * - A duplicate (`create()` of an existing message doc fails the whole batch with ALREADY_EXISTS): the
 *   batch's message docs are read in one `getAll`; those that exist answer `duplicate: true` with the
 *   stored message, the others are committed again without them. A second append of a message already
 *   waiting in the open batch rides on the first one (one write, the second answers `duplicate: true`).
 * - Any other commit failure rejects exactly the appends of that batch; other batches are untouched.
 */
export class GroupCommitter {
  private open: Waiting[] = [];
  private openWrites = 0;
  private openBytes = 0;
  /** Appends waiting in the open batch, by message id. */
  private openById = new Map<string, Promise<AppendResult>>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly maxBytes: number;
  private readonly figures_: GroupCommitFigures = { commits: 0, messages: 0, duplicates: 0, failedCommits: 0, retries: 0 };

  constructor(
    private readonly db: Firestore,
    private readonly options: GroupCommitOptions,
    /** How a batch is committed; tests wrap it to make chosen commits fail. */
    private readonly commitBatch: (batch: WriteBatch) => Promise<unknown> = (batch) => batch.commit(),
  ) {
    this.maxBytes = options.maxBytes ?? MAX_COMMIT_BYTES;
  }

  append(job: AppendJob): Promise<AppendResult> {
    const same = this.openById.get(job.message.id);
    if (same) return same.then((first) => ({ message: first.message, duplicate: true }));
    if (this.open.length > 0 && (this.openWrites + job.writes > this.options.maxWrites || this.openBytes + job.bytes > this.maxBytes)) {
      this.flush();
    }
    const result = new Promise<AppendResult>((resolve, reject) => this.open.push({ job, resolve, reject }));
    this.openById.set(job.message.id, result);
    this.openWrites += job.writes;
    this.openBytes += job.bytes;
    if (this.open.length >= this.options.maxMessages || this.openWrites >= this.options.maxWrites || this.openBytes >= this.maxBytes) this.flush();
    else this.timer ??= this.options.windowMs > 0 ? setTimeout(() => this.flush(), this.options.windowMs) : setImmediate(() => this.flush());
    return result;
  }

  figures(): GroupCommitFigures {
    return { ...this.figures_ };
  }

  /** Commits whatever waits now (also used on shutdown). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const batch = this.open;
    if (batch.length === 0) return;
    this.open = [];
    this.openWrites = 0;
    this.openBytes = 0;
    this.openById = new Map();
    void this.commit(batch);
  }

  private async commit(waiting: Waiting[]): Promise<void> {
    const batch = this.db.batch();
    const added: Waiting[] = [];
    for (const w of waiting) {
      try {
        w.job.write(batch);
        added.push(w);
      } catch (error) {
        // A write the client library refuses (a value Firestore cannot store) fails that message alone.
        // Nothing of it reached the batch: `write` adds the message doc first, and that is what throws.
        w.reject(error);
      }
    }
    if (added.length === 0) return;
    this.figures_.commits += 1;
    try {
      await this.commitBatch(batch);
    } catch (error) {
      if ((error as { code?: unknown }).code === ALREADY_EXISTS) return this.withoutDuplicates(added, error);
      this.figures_.failedCommits += 1;
      for (const w of added) w.reject(error);
      return;
    }
    this.figures_.messages += added.length;
    for (const w of added) w.resolve({ message: w.job.message, duplicate: false });
  }

  /** Some message of the batch exists: answer those as duplicates and commit the others again. */
  private async withoutDuplicates(waiting: Waiting[], cause: unknown): Promise<void> {
    let snapshots: FirebaseFirestore.DocumentSnapshot[];
    try {
      snapshots = await this.db.getAll(...waiting.map((w) => w.job.ref));
    } catch (error) {
      this.figures_.failedCommits += 1;
      for (const w of waiting) w.reject(error);
      return;
    }
    const fresh: Waiting[] = [];
    waiting.forEach((w, i) => {
      const stored = snapshots[i].exists ? toMessage(snapshots[i].data()!) : undefined;
      if (!stored) fresh.push(w);
      else if (isThisAttempt(stored, w.job.message)) {
        // Stored by this very commit: a store that applies a batch's writes up to the failing one (the
        // Node emulator does; Firestore itself is atomic) has written this job, all of it (its writes
        // come before the failing create).
        this.figures_.messages += 1;
        w.resolve({ message: w.job.message, duplicate: false });
      } else {
        this.figures_.duplicates += 1;
        w.resolve({ message: stored, duplicate: true });
      }
    });
    if (fresh.length === 0) return;
    this.figures_.retries += 1;
    if (fresh.length < waiting.length) return this.commit(fresh);
    // ALREADY_EXISTS, yet none of the messages exists (deleted meanwhile?): commit each on its own.
    if (fresh.length === 1) {
      this.figures_.failedCommits += 1;
      fresh[0].reject(cause);
      return;
    }
    await Promise.all(fresh.map((w) => this.commit([w])));
  }
}

/** Each attempt at a message gets its own seq and time, so a stored doc equal in both is this attempt's. */
function isThisAttempt(stored: StoredMessage, attempt: StoredMessage): boolean {
  return stored.seq === attempt.seq && stored.createdAt === attempt.createdAt && stored.clientId === attempt.clientId;
}

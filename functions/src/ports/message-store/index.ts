import { firestore } from "../../firebase";
import { FirestoreMessageStore } from "./firestore-message-store";
import type { GroupCommitOptions } from "./group-commit";
import { MemoryMessageStore } from "./memory-message-store";
import type { MessageStore } from "./message-store";

export * from "./message-store";

/** Picks the message store the config names. */
export function createMessageStore(
  kind: "firestore" | "memory",
  options: { projectId?: string; queueRetentionMs: number; groupCommit?: GroupCommitOptions },
): MessageStore {
  if (kind === "memory") return new MemoryMessageStore();
  return new FirestoreMessageStore(firestore(options.projectId), options.queueRetentionMs, options.groupCommit);
}

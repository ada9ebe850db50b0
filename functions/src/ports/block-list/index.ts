export * from "./block-list";
export { CachedBlockList } from "./cached-block-list";
export { FirestoreBlockList } from "./firestore-block-list";
export { MemoryBlockList } from "./memory-block-list";

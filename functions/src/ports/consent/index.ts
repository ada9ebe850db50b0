export * from "./consent-store";
export { FirestoreConsentStore } from "./firestore-consent-store";
export { MemoryConsentStore } from "./memory-consent-store";

export * from "./notification-store";
export { FirestoreNotificationStore, NOTIFICATIONS } from "./firestore-notification-store";
export { MemoryNotificationStore } from "./memory-notification-store";

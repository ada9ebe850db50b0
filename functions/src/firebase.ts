import { App, getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";

/**
 * The firebase-admin app of this process. Inside Cloud Functions the project comes from the runtime;
 * elsewhere from `projectId` (config `FIREBASE_PROJECT_ID`) or what firebase-admin detects.
 * The emulators are used when FIREBASE_AUTH_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set.
 */
export function firebaseApp(projectId?: string): App {
  const existing = getApps()[0];
  if (existing) return existing;
  // Without a project id, firebase-admin finds it itself (GOOGLE_CLOUD_PROJECT / GCLOUD_PROJECT, the runtime).
  return initializeApp(projectId ? { projectId } : undefined);
}

export const firebaseAuth = (projectId?: string) => getAuth(firebaseApp(projectId));
export const firestore = (projectId?: string) => getFirestore(firebaseApp(projectId));

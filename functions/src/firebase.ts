import { App, getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";

/**
 * The firebase-admin app of this process. Inside Cloud Functions the project comes from the runtime;
 * elsewhere from `projectId`, GCLOUD_PROJECT or the emulators' demo project.
 * The emulators are used when FIREBASE_AUTH_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set.
 */
export function firebaseApp(projectId?: string): App {
  const existing = getApps()[0];
  if (existing) return existing;
  const project = projectId || process.env.GCLOUD_PROJECT || process.env.GOOGLE_CLOUD_PROJECT || undefined;
  return initializeApp(project ? { projectId: project } : undefined);
}

export const firebaseAuth = (projectId?: string) => getAuth(firebaseApp(projectId));
export const firestore = (projectId?: string) => getFirestore(firebaseApp(projectId));

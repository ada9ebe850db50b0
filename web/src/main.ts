/**
 * The TALOWA web app: sign in with the Firebase JS SDK (the Auth emulator locally), then chat through
 * @talowa/client. Settings come from config.json beside this file (web/build.mjs writes it).
 */
import { initializeApp } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
  updateProfile,
  type User,
} from "firebase/auth";
import { startChat, type AppConfig } from "./chat";
import { clear, h } from "./dom";

const root = document.getElementById("app")!;
const config = (await (await fetch("config.json")).json()) as AppConfig;
const app = initializeApp({ apiKey: config.apiKey, projectId: config.projectId, authDomain: `${config.projectId}.firebaseapp.com` });
const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
if (config.authEmulatorUrl) connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });

/** A sign-up sets the display name before the chat starts, so others see it at once. */
let profileWritten: Promise<unknown> = Promise.resolve();
let stopChat: (() => void) | undefined;

onAuthStateChanged(auth, async (user) => {
  stopChat?.();
  stopChat = undefined;
  if (!user) return showSignIn();
  await profileWritten;
  stopChat = startChat(root, user as User, config, () => void signOut(auth));
});

function showSignIn(): void {
  const email = h("input", { type: "email", placeholder: "Email", autocomplete: "username", "data-testid": "auth-email" }) as HTMLInputElement;
  const password = h("input", { type: "password", placeholder: "Password (6+ characters)", autocomplete: "current-password", "data-testid": "auth-password" }) as HTMLInputElement;
  const name = h("input", { placeholder: "Your name (for sign-up)", "data-testid": "auth-name" }) as HTMLInputElement;
  const error = h("div", { class: "error", "data-testid": "auth-error" });
  const attempt = (run: () => Promise<unknown>) => async (event: Event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await run();
    } catch (e) {
      error.textContent = String((e as Error).message ?? e).replace(/^Firebase: /, "");
    }
  };
  const signUp = attempt(async () => {
    let done!: () => void;
    profileWritten = new Promise<void>((resolve) => (done = resolve));
    try {
      const { user } = await createUserWithEmailAndPassword(auth, email.value.trim(), password.value);
      if (name.value.trim()) await updateProfile(user, { displayName: name.value.trim() });
    } finally {
      done();
    }
  });
  const signIn = attempt(() => signInWithEmailAndPassword(auth, email.value.trim(), password.value));
  clear(
    root,
    h(
      "form",
      { class: "auth", onsubmit: signIn },
      h("h1", {}, "TALOWA"),
      h("p", {}, "Messages for members, groups and emergencies."),
      email,
      password,
      name,
      error,
      h("div", { class: "row" }, h("button", { type: "submit", "data-testid": "sign-in" }, "Sign in"), h("button", { type: "button", class: "secondary", "data-testid": "sign-up", onclick: signUp }, "Sign up")),
    ),
  );
}

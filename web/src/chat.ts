/**
 * The chat screen: conversation list (presence dots, unread badges), the open conversation (receipts,
 * typing), new direct chat by email, new group, emergency banner. All state lives in the TalowaClient;
 * this file keeps only what the screen shows (messages per conversation, display names).
 */
import type { User } from "firebase/auth";
import { IndexedDbStorage, TalowaClient, type ChatMessage, type ConversationSummary, type EmergencyBroadcastPayload } from "../../client/src/index.js";
import { clear, h } from "./dom";

export interface AppConfig {
  projectId: string;
  apiKey: string;
  authEmulatorUrl?: string;
  gatewayUrl: string;
}

interface Draft {
  conversationId: string;
  recipientId: string;
}

export function startChat(root: HTMLElement, user: User, config: AppConfig, signOut: () => void): () => void {
  const client = new TalowaClient({
    url: config.gatewayUrl,
    getToken: ({ forceRefresh }) => user.getIdToken(forceRefresh),
    storage: new IndexedDbStorage(`talowa-${user.uid}`),
  });
  const messages = new Map<string, Map<string, ChatMessage>>();
  const names = new Map<string, string>([[user.uid, user.displayName || user.email || "me"]]);
  const historyLoaded = new Set<string>();
  let openId: string | undefined;
  let draft: Draft | undefined;
  let form: "chat" | "group" | undefined;
  let formError = "";

  // --- the page's fixed parts ---------------------------------------------------------------
  const stateLabel = h("span", { class: "state", "data-testid": "state" }, "connecting…");
  const list = h("ul", { class: "conversations", "data-testid": "conversations" });
  const formSlot = h("div");
  const header = h("header");
  const messageList = h("div", { class: "messages", "data-testid": "messages" });
  const typingLine = h("div", { class: "typing", "data-testid": "typing" });
  const input = h("input", { placeholder: "Write a message", "data-testid": "composer", autocomplete: "off" }) as HTMLInputElement;
  const composer = h("form", { class: "composer", onsubmit: (e) => (e.preventDefault(), void sendCurrent()) }, input, h("button", { type: "submit", "data-testid": "send" }, "Send"));
  const conversationPane = h("section", { class: "conversation" });
  input.addEventListener("input", () => openId && !draft && input.value && client.typing(openId));
  clear(
    root,
    h(
      "aside",
      { class: "sidebar" },
      h("div", { class: "me" }, h("span", { class: "name", "data-testid": "me" }, names.get(user.uid)!), stateLabel, h("button", { class: "secondary", onclick: () => void leave(), "data-testid": "sign-out" }, "Sign out")),
      h(
        "div",
        { class: "actions" },
        h("button", { "data-testid": "new-chat", onclick: () => toggleForm("chat") }, "New chat"),
        h("button", { class: "secondary", "data-testid": "new-group", onclick: () => toggleForm("group") }, "New group"),
      ),
      formSlot,
      list,
    ),
    conversationPane,
  );

  // --- client events ------------------------------------------------------------------------
  client.on("state", (state) => {
    stateLabel.textContent = state === "ready" ? "online" : `${state}…`;
    stateLabel.className = `state ${state}`;
  });
  client.on("message", (m) => {
    store(m);
    if (m.conversationId === openId) readIfSeen();
    render();
  });
  // Edits and deletions are folded by the client into the message they name (issue 14).
  client.on("message_updated", (m) => {
    if (messages.get(m.conversationId)?.has(m.id)) store(m);
    render();
  });
  client.on("conversations", (conversations) => {
    void learnNames(conversations.flatMap((c) => c.members));
    if (client.state === "ready") void learnPresence(conversations);
    if (draft && client.conversation(draft.conversationId)) draft = undefined;
    if (openId && !draft && !client.conversation(openId)) openId = undefined;
    render();
  });
  client.on("ready", () => {
    void learnPresence(client.conversations, true);
    if (openId) void openConversation(openId);
  });
  for (const event of ["presence", "unread", "receipt", "outbox", "sent"] as const) client.on(event, () => render());
  client.on("typing", (conversationId) => conversationId === openId && renderTyping());
  client.on("emergency", (broadcast) => showBanner(broadcast));
  client.on("signed_out", () => signOut());
  const onVisible = () => readIfSeen();
  window.addEventListener("focus", onVisible);
  document.addEventListener("visibilitychange", onVisible);
  void client.start();

  // --- actions ------------------------------------------------------------------------------
  async function leave(): Promise<void> {
    await client.close();
    signOut();
  }

  function toggleForm(kind: "chat" | "group"): void {
    form = form === kind ? undefined : kind;
    formError = "";
    renderForm();
  }

  async function startDirect(email: string): Promise<void> {
    const person = await client.findUser(email);
    names.set(person.uid, person.displayName || email);
    void client.getPresence([person.uid]).catch(() => undefined);
    const conversationId = `dm_${[user.uid, person.uid].sort().join("_")}`;
    draft = client.conversation(conversationId) ? undefined : { conversationId, recipientId: person.uid };
    form = undefined;
    await openConversation(conversationId);
  }

  async function createGroup(name: string, emails: string[]): Promise<void> {
    const people = await Promise.all(emails.map((email) => client.findUser(email)));
    for (const p of people) if (p.displayName) names.set(p.uid, p.displayName);
    const group = await client.createGroup({ name, memberIds: people.map((p) => p.uid) });
    form = undefined;
    await openConversation(group.id);
  }

  async function openConversation(conversationId: string): Promise<void> {
    openId = conversationId;
    render();
    input.focus();
    if (draft?.conversationId === conversationId) return;
    const jobs: Array<Promise<unknown>> = [client.getReceipts(conversationId)];
    if (!historyLoaded.has(conversationId)) {
      jobs.push(client.history(conversationId, { limit: 50 }).then(({ messages: page }) => (page.forEach(store), historyLoaded.add(conversationId))));
    }
    await Promise.all(jobs).catch(() => undefined);
    readIfSeen();
    render();
  }

  async function sendCurrent(): Promise<void> {
    const content = input.value.trim();
    if (!content || !openId) return;
    input.value = "";
    const target = draft ? { recipientId: draft.recipientId } : { conversationId: openId };
    try {
      const ack = await client.send({ ...target, content });
      openId = ack.conversationId;
    } catch (error) {
      formError = `Not sent: ${(error as Error).message}`;
    }
    render();
  }

  function readIfSeen(): void {
    if (!openId || document.visibilityState !== "visible") return;
    const newest = client.cursor(openId) ?? 0;
    if (newest > 0 && client.unreadCount(openId) > 0) void client.markRead(openId, newest).catch(() => undefined);
  }

  async function learnNames(uids: string[]): Promise<void> {
    const unknown = [...new Set(uids)].filter((u) => !names.has(u));
    if (unknown.length === 0) return;
    for (const p of await client.getProfiles(unknown.slice(0, 100)).catch(() => [])) names.set(p.uid, p.displayName || p.uid.slice(0, 8));
    render();
  }

  /** Direct partners' presence now; later changes arrive as `presence` events. */
  async function learnPresence(conversations: ConversationSummary[], all = false): Promise<void> {
    const partners = conversations.filter((c) => c.type === "direct").flatMap((c) => c.members.filter((m) => m !== user.uid));
    const wanted = all ? partners : partners.filter((uid) => !client.presenceOf(uid));
    if (wanted.length > 0) await client.getPresence(wanted.slice(0, 500)).catch(() => undefined);
  }

  function store(m: ChatMessage): void {
    if (m.type === "edit" || m.type === "delete") return; // conversation events, not messages to show
    const here = messages.get(m.conversationId) ?? new Map<string, ChatMessage>();
    here.set(m.id, m);
    messages.set(m.conversationId, here);
  }

  // --- rendering ----------------------------------------------------------------------------
  let scheduled = false;
  function render(): void {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      renderList();
      renderConversation();
    });
  }

  function title(c: ConversationSummary | undefined, conversationId: string): string {
    if (c?.type === "group") return c.name ?? "Group";
    const other = c?.members.find((m) => m !== user.uid) ?? draft?.recipientId ?? conversationId;
    return names.get(other) ?? other.slice(0, 8);
  }

  function sorted(conversationId: string): ChatMessage[] {
    return [...(messages.get(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  function dot(c: ConversationSummary | undefined): HTMLElement {
    if (c?.type === "group") return h("span", { class: "dot group" });
    const other = c?.members.find((m) => m !== user.uid) ?? draft?.recipientId;
    const status = (other && client.presenceOf(other)?.status) || "offline";
    return h("span", { class: `dot ${status}`, "data-testid": "presence", "data-status": status, title: status });
  }

  function renderList(): void {
    const items = client.conversations
      .map((c) => ({ c, last: sorted(c.id).at(-1) }))
      .sort((x, y) => (y.last?.createdAt ?? y.c.createdAt) - (x.last?.createdAt ?? x.c.createdAt))
      .map(({ c, last }) => {
        const unread = client.unreadCount(c.id);
        return h(
          "li",
          { class: c.id === openId ? "open" : "", "data-testid": "conversation", "data-id": c.id, onclick: () => void openConversation(c.id) },
          dot(c),
          h("div", { class: "text" }, h("div", { class: "title" }, title(c, c.id)), h("div", { class: "preview" }, last ? last.content : c.type === "group" ? `${c.members.length} members` : "")),
          unread > 0 ? h("span", { class: "badge", "data-testid": "unread" }, String(unread)) : undefined,
        );
      });
    clear(list, ...items);
  }

  function renderConversation(): void {
    if (!openId) {
      clear(conversationPane, h("div", { class: "empty" }, h("p", {}, "Pick a conversation, or start one with “New chat”.")));
      return;
    }
    const c = client.conversation(openId);
    const others = (c?.members ?? []).filter((m) => m !== user.uid);
    const sub = c?.type === "group" ? `${c.members.length} members` : (client.presenceOf(others[0] ?? draft?.recipientId ?? "")?.status ?? "offline");
    clear(header, dot(c), h("div", {}, h("div", { class: "title", "data-testid": "conversation-title" }, title(c, openId)), h("div", { class: "sub" }, sub)));
    const atBottom = messageList.scrollHeight - messageList.scrollTop - messageList.clientHeight < 40;
    const shown = sorted(openId).map((m) => bubble(m, c));
    const pending = client
      .pendingSends()
      .filter((e) => e.payload.conversationId === openId || (draft && e.payload.recipientId === draft.recipientId))
      .map((e) => h("div", { class: "message mine pending", "data-testid": "message", "data-mine": "true" }, h("div", {}, e.payload.content), h("div", { class: "meta" }, "sending…")));
    clear(messageList, ...shown, ...pending);
    if (atBottom || pending.length > 0) messageList.scrollTop = messageList.scrollHeight;
    if (!conversationPane.contains(composer)) clear(conversationPane, header, messageList, typingLine, composer);
    renderTyping();
    if (formError) typingLine.textContent = formError;
  }

  function bubble(m: ChatMessage, c: ConversationSummary | undefined): HTMLElement {
    const mine = m.senderId === user.uid;
    const time = new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    let ticks: HTMLElement | undefined;
    if (mine) {
      const state = client.deliveryState(m.conversationId, m.seq);
      const summary = client.receiptSummary(m.conversationId, m.seq);
      const label = state === "sent" ? "✓" : "✓✓";
      const detail = c?.type === "group" ? ` read by ${summary.read} of ${summary.of}` : "";
      ticks = h("span", { class: `ticks ${state}`, "data-testid": "status", "data-state": state, title: state }, label + detail);
    }
    const who = !mine && c?.type === "group" ? h("div", { class: "who" }, m.senderId ? (names.get(m.senderId) ?? "member") : "anonymous") : undefined;
    return h(
      "div",
      { class: `message${mine ? " mine" : ""}`, "data-testid": "message", "data-seq": m.seq, "data-mine": String(mine) },
      who,
      h("div", { "data-testid": "content" }, m.deleted ? "Message deleted" : m.content),
      h("div", { class: "meta" }, `${time} `, ticks),
    );
  }

  function renderTyping(): void {
    const typists = openId ? client.typingIn(openId) : [];
    typingLine.textContent = typists.length === 0 ? "" : `${typists.map((u) => names.get(u) ?? "someone").join(", ")} ${typists.length > 1 ? "are" : "is"} typing…`;
  }

  function renderForm(): void {
    if (!form) return clear(formSlot);
    const error = h("div", { class: "error", "data-testid": "form-error" }, formError);
    const fail = (e: unknown) => {
      formError = (e as Error).message;
      error.textContent = formError;
    };
    if (form === "chat") {
      const email = h("input", { type: "email", placeholder: "Their email", "data-testid": "chat-email" }) as HTMLInputElement;
      const submit = (e: Event) => (e.preventDefault(), void startDirect(email.value.trim()).then(renderForm, fail));
      clear(formSlot, h("form", { class: "form", onsubmit: submit }, email, h("button", { type: "submit", "data-testid": "chat-start" }, "Start chat"), error));
      email.focus();
    } else {
      const name = h("input", { placeholder: "Group name", "data-testid": "group-name" }) as HTMLInputElement;
      const emails = h("input", { placeholder: "Members' emails, comma-separated", "data-testid": "group-emails" }) as HTMLInputElement;
      const submit = (e: Event) => {
        e.preventDefault();
        const list = emails.value.split(",").map((s) => s.trim()).filter(Boolean);
        void createGroup(name.value.trim(), list).then(renderForm, fail);
      };
      clear(formSlot, h("form", { class: "form", onsubmit: submit }, name, emails, h("button", { type: "submit", "data-testid": "group-create" }, "Create group"), error));
      name.focus();
    }
  }

  render();
  return () => {
    window.removeEventListener("focus", onVisible);
    document.removeEventListener("visibilitychange", onVisible);
    void client.close();
  };
}

function showBanner(broadcast: EmergencyBroadcastPayload): void {
  const banner = document.getElementById("banner")!;
  banner.className = `banner ${broadcast.priority}`;
  banner.hidden = false;
  clear(
    banner,
    h("span", { class: "title", "data-testid": "banner-title" }, `⚠ ${broadcast.title}`),
    h("span", { class: "body" }, broadcast.body),
    h("button", { onclick: () => (banner.hidden = true) }, "Dismiss"),
  );
}

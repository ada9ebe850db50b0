/**
 * docs/FLUTTER.md cannot be compiled or run here (no Dart SDK on our machines). This keeps it from
 * drifting from the protocol: (1) every event its Dart class emits or listens to, and every payload key it
 * sends, is declared in src/protocol.ts (read with the TypeScript compiler); (2) a session driven with
 * socket.io-client configured exactly like the class (websocket only, the auth function asked on every
 * connection attempt, built-in reconnection) and the class's event sequence gets every message once, in
 * order, across a dropped connection; (3) the guide's conversation-state, call and notification steps (issues
 * 14 and 15), driven the same way, leave the state the class keeps where the protocol says it is.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import ts from "typescript";
import { RecordingPushSender } from "../src/ports/push-sender/recording-push-sender";
import type { Ack, ChatMessage, ConversationSummary, IceCandidate, NotificationItem, ReactionSummary } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { callOk, collect, sendOk } from "./support/messaging";
import { createUsers } from "./support/users";
import { arrived, eventually } from "./support/wait";

const guide = readFileSync(join(__dirname, "..", "..", "docs", "FLUTTER.md"), "utf8");
const dart = /```dart\n(import 'dart:async';[\s\S]*?)```/.exec(guide)?.[1] ?? "";

/** Events the Dart class sends, each with the payload keys it writes. */
function dartEmits(): Map<string, Set<string>> {
  const emits = new Map<string, Set<string>>();
  const pattern = /(?:_call\([^,]+,\s*|\bcall\(|\.emit\()'([a-z_]+)'(?:,\s*\{([^}]*)\})?/g;
  for (const [, event, body] of dart.matchAll(pattern)) {
    const keys = emits.get(event) ?? new Set<string>();
    for (const [, key] of (body ?? "").matchAll(/'([A-Za-z]+)':/g)) keys.add(key);
    emits.set(event, keys);
  }
  return emits;
}

function dartListens(): Set<string> {
  return new Set([...dart.matchAll(/\.on\('([a-z_]+)'/g)].map((m) => m[1]));
}

/** Event → payload property names, from the merged interface in src/protocol.ts. */
function protocolEvents(interfaceName: "ClientToServerEvents" | "ServerToClientEvents"): Map<string, Set<string>> {
  const file = join(__dirname, "..", "src", "protocol.ts");
  const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === interfaceName)!;
  const events = new Map<string, Set<string>>();
  for (const event of checker.getPropertiesOfType(checker.getTypeAtLocation(declaration))) {
    const signature = checker.getTypeOfSymbolAtLocation(event, declaration).getCallSignatures()[0];
    const first = signature?.getParameters()[0];
    const payload = first ? checker.getTypeOfSymbolAtLocation(first, declaration) : undefined;
    const keys = payload && !payload.getCallSignatures().length ? checker.getPropertiesOfType(payload).map((p) => p.name) : [];
    events.set(event.name, new Set(keys));
  }
  return events;
}

describe("Flutter guide (docs/FLUTTER.md)", function () {
  this.timeout(60_000);

  it("the Dart class uses only events and payload keys the protocol declares", () => {
    const clientEvents = protocolEvents("ClientToServerEvents");
    const serverEvents = protocolEvents("ServerToClientEvents");
    const unknown: string[] = [];
    for (const [event, keys] of dartEmits()) {
      const declared = clientEvents.get(event);
      if (!declared) unknown.push(`emits ${event}`);
      else for (const key of keys) if (!declared.has(key)) unknown.push(`${event}.${key}`);
    }
    const reserved = new Set(["error"]); // a refused handshake and a failed call without ack (Socket.IO's own event)
    for (const event of dartListens()) if (!serverEvents.has(event) && !reserved.has(event)) unknown.push(`listens ${event}`);

    expect(dart.length).to.be.greaterThan(1_000);
    expect([...dartEmits().keys()]).to.include.members(["send_message", "list_conversations", "fetch_history", "mark_delivered", "refresh_token", "heartbeat"]);
    expect([...dartEmits().keys()]).to.include.members([
      "edit_message", "delete_message", "add_reaction", "remove_reaction",
      "call_initiate", "call_answer", "call_reject", "call_end", "call_ice_candidate",
      "get_notifications", "mark_notification_read", "clear_notification", "clear_all_notifications",
    ]);
    expect([...dartListens()]).to.include.members([
      "reaction_updated", "unread_changed", "receipt_summary", "call_incoming", "call_answered", "call_ended",
      "call_ice_candidate", "call_resumed", "notification_new", "notifications_changed",
    ]);
    expect(unknown).to.deep.equal([]);
  });

  it("a session driven like the Dart class: queue, resume from the cursor after a dropped connection, confirm; every message once, in order", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway();
    const a = await connectAs(url, alice.idToken);
    for (const text of ["one", "two", "three"]) await sendOk(a.socket, { recipientId: bob.uid, content: text });

    const phone = new DartLikeSession(url, () => bob.idToken);
    phone.socket.connect();
    await arrived(phone.handed, 3, 15_000);
    const firstResume = phone.sent.slice(0, 4);
    phone.socket.io.engine.close(); // the network drops: socket.io's own reconnection takes over, asking the auth function again
    for (const text of ["four", "five"]) await sendOk(a.socket, { recipientId: bob.uid, content: text });
    await arrived(phone.handed, 5, 15_000);
    const clientId = "dart-uuid-1";
    const first = await phone.call("send_message", { type: "text", clientId, content: "got them", recipientId: alice.uid });
    const resent = await phone.call("send_message", { type: "text", clientId, content: "got them", recipientId: alice.uid });
    await eventually(() => phone.sent.filter((e) => e === "mark_delivered").length, { accept: (n) => n >= 2, what: "two batched confirmations" });
    phone.socket.disconnect();

    expect(firstResume).to.deep.equal(["list_conversations", "fetch_history", "fetch_history", "mark_delivered"]);
    expect(phone.handed.map((m) => m.content)).to.deep.equal(["one", "two", "three", "four", "five"]);
    expect(phone.tokenRequests).to.equal(2);
    expect(first.ok && resent.ok && resent.duplicate && resent.messageId === first.messageId).to.equal(true);
  });

  it("the guide's issue 14 and 15 steps, driven like the Dart class: edits and deletions folded, reactions with me, unread_changed on the other device, ICE kept until answered, a notification cleared on the other device", async () => {
    const [alice, bob] = await createUsers("alice", "bob");
    const { url } = await startGateway({}, { pushSender: new RecordingPushSender() });
    const a = await connectAs(url, alice.idToken);
    const phone = new DartLikeSession(url, () => bob.idToken);
    const laptop = new DartLikeSession(url, () => bob.idToken);
    phone.socket.connect();
    laptop.socket.connect();
    await Promise.all([phone.resumed, laptop.resumed]);
    const question = await sendOk(a.socket, { recipientId: bob.uid, content: "is the bridge open?" });
    const { conversationId } = question;
    const news = await sendOk(a.socket, { conversationId, content: "school closed" });
    await Promise.all([arrived(phone.handed, 2), arrived(laptop.handed, 2)]);

    await callOk(a.socket, "edit_message", { conversationId, messageId: question.messageId, content: "is the north bridge open?" });
    await callOk(a.socket, "add_reaction", { conversationId, messageId: news.messageId, emoji: "👍" });
    await eventually(() => phone.kept.get(news.messageId)?.reactions?.length, { accept: (n) => n === 1, what: "alice's reaction on the phone" });
    await phone.addReaction(conversationId, news.messageId, "👍");
    await callOk(a.socket, "delete_message", { conversationId, messageId: question.messageId });
    await eventually(() => laptop.kept.get(question.messageId)?.deleted === true && laptop.kept.get(news.messageId)?.reactions?.[0]?.count === 2, { accept: (ok) => ok, what: "the deletion and both reactions on the laptop" });
    const unreadBefore = laptop.unreadCount(conversationId);
    await phone.ok("mark_read", { conversationId, upToSeq: 4 });
    await eventually(() => laptop.unreadCount(conversationId), { accept: (n) => n === 0, what: "unread_changed on the laptop" });

    const aliceGot = collect<{ candidate: IceCandidate }>(a.socket, "call_ice_candidate");
    const { callId } = await callOk<{ callId: string }>(a.socket, "call_initiate", { conversationId, media: "audio", sdpOffer: "v=0 offer" });
    await eventually(() => phone.calls.get(callId), { accept: (state) => state === "ringing", what: "the phone to ring" });
    await phone.sendIceCandidate(callId, { candidate: "candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 });
    const keptWhileRinging = phone.pendingIce.get(callId)?.length;
    await phone.answerCall(callId, "v=0 answer");
    await arrived(aliceGot, 1);
    await eventually(() => laptop.callEvents.find((e) => e.event === "call_ended"), { accept: (e) => e !== undefined, what: "the laptop to stop ringing" });

    await sendOk(a.socket, { conversationId, content: "@bob call me", mentions: [bob.uid] });
    await eventually(() => phone.notifications.size + laptop.notifications.size, { accept: (n) => n === 2, what: "the mention on both devices" });
    await phone.clearNotification([...phone.notifications.keys()][0]);
    await eventually(() => laptop.notifications.size, { accept: (n) => n === 0, what: "notifications_changed on the laptop" });
    phone.socket.disconnect();
    laptop.socket.disconnect();

    for (const device of [phone, laptop]) {
      expect(device.kept.get(question.messageId)).to.deep.include({ content: "", deleted: true });
      expect(device.kept.get(news.messageId)?.reactions).to.deep.equal([{ emoji: "👍", count: 2, me: true }]);
    }
    expect(unreadBefore).to.equal(4); // two messages, the edit, the deletion
    expect(laptop.readSeq.get(conversationId)).to.equal(4);
    expect(keptWhileRinging).to.equal(1);
    expect(aliceGot[0].candidate.candidate).to.match(/^candidate:1 /);
    expect(phone.calls.get(callId)).to.equal("active");
    expect(laptop.callEvents.map((e) => [e.event, e.reason ?? null])).to.deep.equal([["call_incoming", null], ["call_ended", "answered_elsewhere"]]);
    expect(laptop.unreadNotifications).to.equal(0);
  });
});

/**
 * The Dart class's wire behaviour, line for line where it touches the gateway: OptionBuilder options, the
 * auth function, `_resume`, `_fetchAfterCursor`, `_receive`/`_release` (held while resuming, copies dropped
 * by id and cursor) and `_flushConfirms` (mark_delivered per conversation after 250 ms); and the issue 14 / 15
 * state: `_fold`, `_setReaction`, `_countUnread` / `_serverUnread` / `unreadCount`, `_callEvent` with
 * `sendIceCandidate` / `_flushIce`, `_notificationNew` / `_notificationChange`.
 */
class DartLikeSession {
  readonly socket: Socket;
  readonly handed: ChatMessage[] = [];
  readonly sent: string[] = [];
  tokenRequests = 0;
  private readonly cursors = new Map<string, number>();
  private readonly held = new Map<string, ChatMessage[]>();
  private readonly seen = new Set<string>();
  private readonly toConfirm = new Set<string>();
  private resuming = true;
  private confirmTimer?: NodeJS.Timeout;
  private uid?: string;
  readonly resumed: Promise<void>;
  private resumedNow!: () => void;
  readonly kept = new Map<string, ChatMessage>();
  readonly readSeq = new Map<string, number>();
  private readonly unreadSeqs = new Map<string, Set<number>>();
  private readonly floor = new Map<string, number>();
  private readonly olderUnread = new Map<string, number>();
  readonly calls = new Map<string, string>();
  readonly pendingIce = new Map<string, IceCandidate[]>();
  readonly callEvents: Array<{ event: string; reason?: string }> = [];
  readonly notifications = new Map<string, NotificationItem>();
  unreadNotifications?: number;

  constructor(url: string, token: () => string) {
    this.socket = connect(url, {
      transports: ["websocket"],
      autoConnect: false,
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 10_000,
      auth: (callback) => {
        this.tokenRequests += 1;
        callback({ token: token() });
      },
    });
    this.resumed = new Promise((resolve) => (this.resumedNow = resolve));
    this.socket.onAnyOutgoing((event: string) => this.sent.push(event));
    this.socket.on("auth_success", (welcome: { uid: string; unreadNotifications?: number }) => {
      this.uid = welcome.uid;
      this.unreadNotifications = welcome.unreadNotifications ?? this.unreadNotifications;
      void this.resume();
    });
    this.socket.on("disconnect", () => (this.resuming = true));
    this.socket.on("new_message", (m: ChatMessage) => this.receive(m));
    this.socket.on("reaction_updated", (p: { messageId: string; emoji: string; count: number; userId: string; added: boolean }) =>
      this.setReaction(p.messageId, p.emoji, p.count, p.userId === this.uid ? p.added : undefined),
    );
    this.socket.on("unread_changed", (p: { conversationId: string; unreadCount: number; readSeq: number }) => this.serverUnread(p.conversationId, p.unreadCount, p.readSeq));
    for (const event of ["call_incoming", "call_answered", "call_ended", "call_ice_candidate", "call_resumed"]) {
      this.socket.on(event, (p: { callId: string; reason?: string; state?: string }) => void this.callEvent(event, p));
    }
    this.socket.on("notification_new", (n: NotificationItem) => this.notificationNew(n));
    this.socket.on("notifications_changed", (c: { change: string; id: string | null; unreadCount: number }) => this.notificationChange(c));
  }

  /** The Dart `call`: the `{ ok: true }` body, or a throw with the code. */
  async ok<T extends object>(event: string, payload: unknown): Promise<T & Record<string, unknown>> {
    const answer = await this.call<T>(event, payload);
    if (!answer.ok) throw new Error(`${event}: ${answer.error.code}`);
    return answer as T & Record<string, unknown>;
  }

  async addReaction(conversationId: string, messageId: string, emoji: string): Promise<void> {
    const ack = await this.ok<{ count: number }>("add_reaction", { conversationId, messageId, emoji });
    this.setReaction(messageId, emoji, ack.count, true);
  }

  async answerCall(callId: string, sdpAnswer: string): Promise<void> {
    await this.ok("call_answer", { callId, sdpAnswer });
    this.calls.set(callId, "active");
    await this.flushIce(callId);
  }

  async sendIceCandidate(callId: string, candidate: IceCandidate): Promise<void> {
    if (this.calls.get(callId) === "ringing") {
      this.pendingIce.set(callId, [...(this.pendingIce.get(callId) ?? []), candidate]);
      return;
    }
    await this.ok("call_ice_candidate", { callId, candidate });
  }

  async clearNotification(id: string): Promise<void> {
    const ack = await this.ok<{ unreadCount: number }>("clear_notification", { id });
    this.notificationChange({ change: "cleared", id, unreadCount: ack.unreadCount });
  }

  unreadCount(conversationId: string): number {
    const floor = this.floor.get(conversationId);
    const read = this.readSeq.get(conversationId) ?? 0;
    const older = floor !== undefined && read >= floor ? 0 : (this.olderUnread.get(conversationId) ?? 0);
    return older + (this.unreadSeqs.get(conversationId)?.size ?? 0);
  }

  async call<T extends object>(event: string, payload: unknown): Promise<Ack<T> & Record<string, unknown>> {
    return (await this.socket.timeout(10_000).emitWithAck(event, payload)) as Ack<T> & Record<string, unknown>;
  }

  private async resume(): Promise<void> {
    this.resuming = true;
    const list = await this.call<{ conversations: ConversationSummary[] }>("list_conversations", {});
    if (!list.ok) throw new Error(list.error.message);
    for (const { id } of list.conversations) {
      if (!this.cursors.has(id)) {
        const page = await this.call<{ messages: ChatMessage[] }>("fetch_history", { conversationId: id, limit: 1 });
        const newest = page.ok ? (page.messages.at(-1)?.seq ?? 0) : 0;
        const held = this.held.get(id) ?? [];
        this.cursors.set(id, held.length ? Math.min(Math.min(...held.map((m) => m.seq)) - 1, newest) : newest);
      }
      for (;;) {
        const page = await this.call<{ messages: ChatMessage[]; hasMore: boolean }>("fetch_history", { conversationId: id, afterSeq: this.cursors.get(id) ?? 0, limit: 100 });
        if (!page.ok) throw new Error(page.error.message);
        for (const m of page.messages) if (!this.isCopy(m)) this.hand(m);
        if (!page.hasMore || page.messages.length === 0) break;
      }
      const held = (this.held.get(id) ?? []).sort((x, y) => x.seq - y.seq);
      this.held.delete(id);
      for (const m of held) if (!this.isCopy(m)) this.hand(m);
    }
    this.resuming = false;
    this.flushConfirms();
    this.resumedNow();
  }

  private receive(m: ChatMessage): void {
    if (this.resuming) {
      this.held.set(m.conversationId, [...(this.held.get(m.conversationId) ?? []), m]);
      return;
    }
    if (this.isCopy(m)) return;
    this.hand(m); // (the class fills gaps from history first; none occur in this session)
  }

  private isCopy(m: ChatMessage): boolean {
    const copy = this.seen.has(m.id) || m.seq <= (this.cursors.get(m.conversationId) ?? -1);
    if (copy) this.confirm(m.conversationId);
    return copy;
  }

  private hand(m: ChatMessage): void {
    this.cursors.set(m.conversationId, Math.max(this.cursors.get(m.conversationId) ?? 0, m.seq));
    this.seen.add(m.id);
    this.handed.push(m);
    this.confirm(m.conversationId);
    this.fold(m);
    this.countUnread(m);
  }

  private fold(m: ChatMessage): void {
    if (m.type !== "edit" && m.type !== "delete") {
      this.kept.set(m.id, m);
      return;
    }
    const target = this.kept.get(m.targetId ?? "");
    if (!target || target.deleted) return;
    if (m.type === "edit") {
      if ((target.editedAt ?? 0) > m.createdAt) return;
      this.kept.set(target.id, { ...target, content: m.content, editedAt: m.createdAt });
    } else {
      const { replyTo: _r, reactions: _x, ...rest } = target;
      this.kept.set(target.id, { ...rest, content: "", metadata: {}, deleted: true, deletedAt: m.createdAt });
    }
  }

  private setReaction(messageId: string, emoji: string, count: number, me: boolean | undefined): void {
    const m = this.kept.get(messageId);
    if (!m) return;
    const reactions: ReactionSummary[] = (m.reactions ?? []).map((r) => ({ ...r }));
    const mine = me ?? reactions.some((r) => r.emoji === emoji && r.me);
    const others = reactions.filter((r) => r.emoji !== emoji);
    this.kept.set(messageId, { ...m, reactions: count > 0 ? [...others, { emoji, count, me: mine }] : others });
  }

  private countUnread(m: ChatMessage): void {
    const id = m.conversationId;
    if (!this.floor.has(id)) this.floor.set(id, m.seq - 1);
    if (m.senderId !== this.uid && m.seq > (this.readSeq.get(id) ?? 0)) this.unreadSeqs.set(id, new Set([...(this.unreadSeqs.get(id) ?? []), m.seq]));
  }

  private serverUnread(id: string, count: number, readSeq: number): void {
    if (readSeq < (this.readSeq.get(id) ?? 0)) return;
    this.readSeq.set(id, readSeq);
    const seqs = new Set([...(this.unreadSeqs.get(id) ?? [])].filter((s) => s > readSeq));
    this.unreadSeqs.set(id, seqs);
    this.olderUnread.set(id, Math.max(0, count - seqs.size));
  }

  private async callEvent(event: string, p: { callId: string; reason?: string; state?: string }): Promise<void> {
    if (event === "call_incoming") this.calls.set(p.callId, "ringing");
    if (event === "call_resumed") this.calls.set(p.callId, p.state ?? "active");
    if (event === "call_ended") {
      this.calls.delete(p.callId);
      this.pendingIce.delete(p.callId);
    }
    this.callEvents.push({ event, ...(p.reason ? { reason: p.reason } : {}) });
    if (event === "call_answered") {
      this.calls.set(p.callId, "active");
      await this.flushIce(p.callId);
    }
  }

  private async flushIce(callId: string): Promise<void> {
    const kept = this.pendingIce.get(callId) ?? [];
    this.pendingIce.delete(callId);
    for (const candidate of kept) await this.ok("call_ice_candidate", { callId, candidate });
  }

  private notificationNew(n: NotificationItem): void {
    const known = this.notifications.has(n.id);
    this.notifications.set(n.id, n);
    if (!known) this.unreadNotifications = (this.unreadNotifications ?? 0) + 1;
  }

  private notificationChange(c: { change: string; id: string | null; unreadCount: number }): void {
    if (c.change === "cleared_all") this.notifications.clear();
    if (c.change === "cleared" && c.id) this.notifications.delete(c.id);
    const n = c.id ? this.notifications.get(c.id) : undefined;
    if (c.change === "read" && n) this.notifications.set(n.id, { ...n, read: true });
    this.unreadNotifications = c.unreadCount;
  }

  private confirm(conversationId: string): void {
    this.toConfirm.add(conversationId);
    this.confirmTimer ??= setTimeout(() => {
      this.confirmTimer = undefined;
      this.flushConfirms();
    }, 250);
  }

  private flushConfirms(): void {
    if (this.resuming || !this.socket.connected) return;
    for (const id of this.toConfirm) this.socket.emit("mark_delivered", { conversationId: id, upToSeq: this.cursors.get(id) });
    this.toConfirm.clear();
  }
}

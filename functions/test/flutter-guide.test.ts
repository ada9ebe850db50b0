/**
 * docs/FLUTTER.md cannot be compiled or run here (no Dart SDK on our machines). This keeps it from
 * drifting from the protocol: (1) every event its Dart class emits or listens to, and every payload key it
 * sends, is declared in src/protocol.ts (read with the TypeScript compiler); (2) a session driven with
 * socket.io-client configured exactly like the class (websocket only, the auth function asked on every
 * connection attempt, built-in reconnection) and the class's event sequence gets every message once, in
 * order, across a dropped connection.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import ts from "typescript";
import type { Ack, ChatMessage, ConversationSummary } from "../src/protocol";
import { connectAs, startGateway } from "./support/gateway";
import { sendOk } from "./support/messaging";
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
});

/**
 * The Dart class's wire behaviour, line for line where it touches the gateway: OptionBuilder options, the
 * auth function, `_resume`, `_fetchAfterCursor`, `_receive`/`_release` (held while resuming, copies dropped
 * by id and cursor) and `_flushConfirms` (mark_delivered per conversation after 250 ms).
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
    this.socket.onAnyOutgoing((event: string) => this.sent.push(event));
    this.socket.on("auth_success", () => void this.resume());
    this.socket.on("disconnect", () => (this.resuming = true));
    this.socket.on("new_message", (m: ChatMessage) => this.receive(m));
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

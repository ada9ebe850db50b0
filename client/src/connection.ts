import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { Emitter } from "./emitter.js";
import { FATAL_REASONS, SIGN_OUT_REASONS, TalowaError } from "./errors.js";
import type { ErrorBody } from "./generated/errors.js";
import type { Ack, AuthSuccessPayload, ClientToServerEvents, ServerToClientEvents } from "./generated/protocol.js";

export type TalowaSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Returns the user's Firebase ID token (`user.getIdToken(forceRefresh)`); called before every connection
 * attempt, with `forceRefresh: true` after the gateway said the token expired and on `token_expiring`.
 * Return null when nobody is signed in: the client then reports `signed_out`.
 */
export type GetToken = (options: { forceRefresh: boolean }) => Promise<string | null | undefined> | string | null | undefined;

export interface ConnectionOptions {
  /** The gateway, or several: after a failure the next one is tried. */
  url: string | string[];
  getToken: GetToken;
  /** Socket.IO path; default /socket.io. */
  path?: string;
  /** Default ["websocket"]: no sticky sessions needed behind a load balancer. */
  transports?: Array<"websocket" | "polling">;
  /** First pause before reconnecting (ms), doubled after each failed attempt up to the maximum, with jitter. */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** How long a call waits for its acknowledgement. */
  ackTimeoutMs?: number;
  /** Passed to socket.io-client's io() as they are (reconnection stays off: this class reconnects). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

type ConnectionEvents = {
  /** A socket was made: attach listeners now, before any server event can arrive. */
  socket: (socket: TalowaSocket) => void;
  /** The gateway admitted the socket (`auth_success`). */
  open: (socket: TalowaSocket, welcome: AuthSuccessPayload) => void;
  /** An admitted socket went away; a new attempt follows unless stopped. */
  close: (reason: string) => void;
  /** An attempt failed before admission; a new one follows. */
  attempt_failed: (error: TalowaError) => void;
  signed_out: (reason: string) => void;
  fatal: (error: TalowaError) => void;
  token_refreshed: (expiresAt: number | null) => void;
};

/**
 * One live Socket.IO connection at a time, re-made after any loss: a fresh token from getToken() on
 * every attempt, the next URL after a failure, exponential backoff with jitter (or the server's
 * `reconnectAfterMs` after `server_shutdown`), heartbeats, and `token_expiring` answered with
 * `refresh_token`. TOKEN_REVOKED / USER_DISABLED / USER_NOT_FOUND end it with `signed_out`.
 */
export class Connection extends Emitter<ConnectionEvents> {
  socket?: TalowaSocket;
  welcome?: AuthSuccessPayload;
  /** Admissions so far (the first connection and every reconnection). */
  connects = 0;
  private urlIndex = 0;
  private failures = 0;
  private forceRefresh = false;
  private serverDelayMs?: number;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private running = false;
  private readonly urls: string[];
  private readonly onOnline = () => this.retryNow();

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.urls = Array.isArray(options.url) ? options.url : [options.url];
    if (this.urls.length === 0) throw new Error("TalowaClient: at least one url is required");
  }

  get url(): string {
    return this.urls[this.urlIndex % this.urls.length];
  }

  get admitted(): boolean {
    return !!this.socket?.connected && !!this.welcome;
  }

  get ackTimeoutMs(): number {
    return this.options.ackTimeoutMs ?? 10_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    (globalThis as { addEventListener?: (e: string, l: () => void) => void }).addEventListener?.("online", this.onOnline);
    void this.open();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.retryTimer);
    (globalThis as { removeEventListener?: (e: string, l: () => void) => void }).removeEventListener?.("online", this.onOnline);
    if (this.socket) this.drop(this.socket, "client stopped");
  }

  /** Drops the current connection (as a network loss would) and connects again at once. */
  reconnect(): void {
    if (!this.running) return;
    if (this.socket) this.failover(this.socket, "client reconnect", 0);
    else this.retryNow();
  }

  private retryNow(): void {
    if (!this.running || this.socket) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.open();
  }

  private async open(): Promise<void> {
    if (!this.running || this.socket) return;
    let token: string | null | undefined;
    try {
      token = await this.options.getToken({ forceRefresh: this.forceRefresh });
    } catch (error) {
      this.emit("attempt_failed", TalowaError.unavailable(`getToken failed: ${String(error)}`));
      return this.scheduleRetry();
    }
    if (!this.running || this.socket) return;
    if (!token) return this.signOut("TOKEN_MISSING");
    this.forceRefresh = false;
    const socket: TalowaSocket = io(this.url, {
      path: this.options.path,
      transports: this.options.transports ?? ["websocket"],
      ...this.options.socketOptions,
      auth: { token },
      reconnection: false,
      forceNew: true,
    });
    this.socket = socket;
    this.welcome = undefined;
    this.listen(socket);
    this.emit("socket", socket);
  }

  private listen(socket: TalowaSocket): void {
    socket.on("auth_success", (welcome) => {
      if (socket !== this.socket) return;
      this.failures = 0;
      this.connects += 1;
      this.welcome = welcome;
      this.startHeartbeat(socket, welcome.heartbeatIntervalMs);
      this.emit("open", socket, welcome);
    });
    socket.on("connect_error", (error) => this.refused(socket, error as Error & { data?: ErrorBody }));
    socket.on("disconnect", (reason) => {
      if (socket !== this.socket) return;
      if (reason === "io server disconnect") this.forceRefresh = true; // a kicked socket may have an expired token
      this.failover(socket, reason);
    });
    socket.on("server_shutdown", ({ reconnectAfterMs }) => (this.serverDelayMs = reconnectAfterMs));
    socket.on("error", (body) => this.sessionProblem(socket, body));
    socket.on("session_ended", ({ reason, message }) => this.sessionProblem(socket, { code: "UNAUTHENTICATED", reason, message }));
    socket.on("token_expiring", () => void this.refreshToken(socket));
  }

  private refused(socket: TalowaSocket, error: Error & { data?: ErrorBody }): void {
    if (socket !== this.socket) return;
    const data = error.data;
    const failure = new TalowaError(data?.code ? data : { code: "UNAVAILABLE", message: error.message });
    if (data?.code === "UNAUTHENTICATED") {
      const reason = data.reason ?? "";
      if (SIGN_OUT_REASONS.has(reason)) return this.signOut(reason);
      if (FATAL_REASONS.has(reason)) {
        this.stop();
        this.emit("fatal", failure);
        return;
      }
      this.forceRefresh = true; // TOKEN_EXPIRED, TOKEN_INVALID, or a reason this client does not know
    }
    this.emit("attempt_failed", failure);
    // Overloaded, rate-limited or cut off for a flood: never back before the server said (plus jitter, in nextDelay).
    if (failure.retryAfterMs !== undefined) this.serverDelayMs = Math.max(this.serverDelayMs ?? 0, failure.retryAfterMs, this.exponentialDelay());
    this.failover(socket, `refused: ${failure.reason ?? failure.code}`);
  }

  /**
   * `session_ended` (or an `error` naming an auth reason): the server ends the session. TOKEN_EXPIRED:
   * reconnect with a fresh token (the disconnect follows); TOKEN_REVOKED / USER_DISABLED / USER_NOT_FOUND:
   * sign out; TOKEN_INVALID on a live session: sign out too (protocol: do not retry in a loop).
   */
  private sessionProblem(socket: TalowaSocket, body: ErrorBody): void {
    if (socket !== this.socket || body?.code !== "UNAUTHENTICATED") return;
    const reason = body.reason ?? "";
    if (SIGN_OUT_REASONS.has(reason) || reason === "TOKEN_INVALID") return this.signOut(reason);
    this.forceRefresh = true;
  }

  private async refreshToken(socket: TalowaSocket): Promise<void> {
    try {
      const token = await this.options.getToken({ forceRefresh: true });
      if (socket !== this.socket) return;
      if (!token) return this.signOut("TOKEN_MISSING");
      const ack = (await socket.timeout(this.ackTimeoutMs).emitWithAck("refresh_token", { token })) as Ack<{ expiresAt: number | null }>;
      if (socket !== this.socket) return;
      if (ack.ok) return this.emit("token_refreshed", ack.expiresAt);
      if (ack.error.reason && SIGN_OUT_REASONS.has(ack.error.reason)) return this.signOut(ack.error.reason);
    } catch {
      if (socket !== this.socket) return;
    }
    this.forceRefresh = true;
    this.failover(socket, "token refresh failed");
  }

  private signOut(reason: string): void {
    this.stop();
    this.emit("signed_out", reason);
  }

  private failover(socket: TalowaSocket, reason: string, delayMs?: number): void {
    if (socket !== this.socket) return;
    this.drop(socket, reason);
    if (!this.running) return;
    if (this.urls.length > 1) this.urlIndex += 1;
    this.scheduleRetry(delayMs);
  }

  private drop(socket: TalowaSocket, reason: string): void {
    const wasAdmitted = !!this.welcome;
    socket.removeAllListeners();
    socket.disconnect();
    this.socket = undefined;
    this.welcome = undefined;
    clearInterval(this.heartbeatTimer);
    if (wasAdmitted) this.emit("close", reason);
  }

  private scheduleRetry(delayMs = this.nextDelay()): void {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private nextDelay(): number {
    const min = this.options.minReconnectDelayMs ?? 250;
    const fromServer = this.serverDelayMs;
    this.serverDelayMs = undefined;
    const exponential = this.exponentialDelay();
    this.failures += 1;
    if (fromServer !== undefined) return fromServer + Math.random() * min;
    return exponential / 2 + (Math.random() * exponential) / 2;
  }

  private exponentialDelay(): number {
    return Math.min(this.options.maxReconnectDelayMs ?? 15_000, (this.options.minReconnectDelayMs ?? 250) * 2 ** this.failures);
  }

  private startHeartbeat(socket: TalowaSocket, intervalMs: number): void {
    clearInterval(this.heartbeatTimer);
    if (!(intervalMs > 0)) return;
    this.heartbeatTimer = setInterval(() => socket.connected && socket.emit("heartbeat"), intervalMs);
  }
}

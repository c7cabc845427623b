/// <reference lib="dom" />
/**
 * A Channel over the browser's WebSocket: one binary message per qi message (the rule of
 * src/transport/ws-frame.ts), received as ArrayBuffer and parsed in place (payloads are views,
 * no copy). Differences from the Node channels, all due to what browsers allow:
 *  - backpressure: `bufferedAmount` is polled (browsers have no drain event) while sendAsync
 *    callers wait;
 *  - pause(): a browser cannot stop reading a WebSocket, so paused messages are held in memory
 *    and delivered on resume();
 *  - destroy() is close() (there is no way to drop the TCP connection without a close frame).
 */
import type { Channel, CloseHandler, MessageHandler } from "../../transport/index.js";
import { TransportError } from "../../transport/errors.js";
import {
  closeCodeFor,
  closeReasonText,
  encodeFrame,
  parseFrame,
  WsCloseCode,
} from "../../transport/ws-frame.js";
import { DEFAULT_MAX_PAYLOAD, type Message } from "../../wire/index.js";

export interface BrowserChannelOptions {
  /** Largest payload accepted from the server (default 50 000 000). */
  maxPayload?: number;
  /** bufferedAmount above which send() returns false and sendAsync() waits (default 4 MiB). */
  highWaterMark?: number;
  /** ms for the WebSocket to open (default 10 000; 0: none). */
  timeout?: number;
  /** Another WebSocket implementation (tests, workers); default globalThis.WebSocket. */
  WebSocket?: typeof WebSocket;
}

const POLL_MS = 10;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** `ws://host:port` of a WebSocket URL (what remoteUrl shows). */
function origin(url: string): { scheme: "ws" | "wss"; host: string; port: number } {
  const u = new URL(url);
  const scheme = u.protocol === "wss:" ? "wss" : "ws";
  const port = u.port !== "" ? Number(u.port) : scheme === "wss" ? 443 : 80;
  return { scheme, host: u.hostname.replace(/^\[|\]$/g, ""), port };
}

export class BrowserWsChannel implements Channel {
  readonly remoteAddress: string;
  readonly localUrl: string;
  readonly remoteUrl: string;
  readonly isSecure: boolean;
  /** Close code and reason of the WebSocket once closed. */
  closeCode: number | undefined;
  closeText: string | undefined;

  private readonly ws: WebSocket;
  private readonly maxPayload: number;
  private readonly hwm: number;
  private messageHandlers: MessageHandler[] = [];
  private closeHandlers: CloseHandler[] = [];
  private held: Message[] | null = [];
  private paused = false;
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private drainHandlers: Array<() => void> = [];
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private reason: Error | undefined;
  private isClosed = false;

  private constructor(ws: WebSocket, opts: BrowserChannelOptions) {
    this.ws = ws;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.hwm = opts.highWaterMark ?? 4 * 1024 * 1024;
    const o = origin(ws.url);
    this.isSecure = o.scheme === "wss";
    this.remoteAddress = o.host;
    this.remoteUrl = `${o.scheme}://${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`;
    this.localUrl = `${o.scheme}://browser`;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = (ev) => {
      this.closeCode ??= ev.code;
      this.closeText ??= ev.reason;
      const text =
        ev.code === 1006
          ? `connection ${this.remoteUrl} lost (1006)`
          : `connection ${this.remoteUrl} closed by peer (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`;
      this.finish(new TransportError("ERR_CLOSED", text));
    };
    ws.onerror = () => {
      /* always followed by a close event, which carries the code */
    };
  }

  /** Opens a WebSocket to `url` (ws:// or wss://) and resolves once it is open. */
  static open(url: string, opts: BrowserChannelOptions = {}): Promise<BrowserWsChannel> {
    const Ctor = opts.WebSocket ?? globalThis.WebSocket;
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new Ctor(url);
      } catch (e) {
        reject(new TransportError("ERR_BAD_URL", `cannot open ${url}: ${asError(e).message}`, { cause: e }));
        return;
      }
      ws.binaryType = "arraybuffer";
      const timeout = opts.timeout ?? 10_000;
      const timer =
        timeout > 0
          ? setTimeout(() => {
              ws.close();
              reject(new TransportError("ERR_TIMEOUT", `connect to ${url} timed out after ${timeout} ms`));
            }, timeout)
          : undefined;
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new BrowserWsChannel(ws, opts));
      };
      ws.onclose = (ev) => {
        clearTimeout(timer);
        // Browsers hide why a WebSocket failed (refused, 403 Origin, TLS): say what it may be.
        reject(
          new TransportError(
            "ERR_CONNECT",
            `cannot connect to ${url} (WebSocket closed with ${ev.code}${ev.reason ? ` ${ev.reason}` : ""}): ` +
              "server unreachable, or this page's origin is not allowed by the listener",
          ),
        );
      };
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get closeReason(): Error | undefined {
    return this.reason;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    this.ws.send(encodeFrame(msg));
    if (this.ws.bufferedAmount <= this.hwm) return true;
    if (this.drainHandlers.length > 0) this.poll();
    return false;
  }

  onDrain(cb: () => void): () => void {
    this.drainHandlers.push(cb);
    return () => {
      this.drainHandlers = this.drainHandlers.filter((h) => h !== cb);
    };
  }

  sendAsync(msg: Message): Promise<void> {
    let ok: boolean;
    try {
      ok = this.send(msg);
    } catch (e) {
      return Promise.reject(e);
    }
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.poll();
    });
  }

  onMessage(cb: MessageHandler): () => void {
    this.messageHandlers.push(cb);
    if (this.messageHandlers.length === 1 && !this.paused) queueMicrotask(() => this.flushHeld());
    return () => {
      this.messageHandlers = this.messageHandlers.filter((h) => h !== cb);
    };
  }

  onClose(cb: CloseHandler): () => void {
    if (this.isClosed) {
      const reason = this.reason;
      queueMicrotask(() => cb(reason));
      return () => {};
    }
    this.closeHandlers.push(cb);
    return () => {
      this.closeHandlers = this.closeHandlers.filter((h) => h !== cb);
    };
  }

  close(reason?: Error): void {
    this.closeWith(WsCloseCode.Normal, "", reason);
  }

  destroy(reason?: Error): void {
    this.closeWith(
      WsCloseCode.Normal,
      "",
      reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`),
    );
  }

  setMaxPayload(_limit: number): void {
    // A browser client trusts the gateway it chose to connect to; nothing to tighten.
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    queueMicrotask(() => this.flushHeld());
  }

  // --------------------------------------------------------------------------------------------

  private closeWith(code: number, text: string, reason?: Error): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeText = text;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    try {
      this.ws.close(code, closeReasonText(text));
    } catch {
      this.ws.close();
    }
  }

  private onFrame(data: unknown): void {
    if (this.isClosed) return;
    if (typeof data === "string") {
      this.closeWith(
        WsCloseCode.PolicyViolation,
        "text frames are not accepted: send each qi message as one binary frame",
        new TransportError("ERR_SOCKET", `${this.remoteUrl} sent a text frame (closed with 1008)`),
      );
      return;
    }
    let msg: Message;
    try {
      msg = parseFrame(new Uint8Array(data as ArrayBuffer), this.maxPayload);
    } catch (e) {
      const err = asError(e);
      this.closeWith(closeCodeFor(err), err.message, err);
      return;
    }
    if (this.held !== null || this.paused || this.messageHandlers.length === 0) {
      if (this.held === null) this.held = [];
      this.held.push(msg);
      return;
    }
    this.dispatch(msg);
  }

  private flushHeld(): void {
    const held = this.held;
    if (this.isClosed || this.paused || this.messageHandlers.length === 0 || held === null) return;
    this.held = null;
    for (let i = 0; i < held.length; i++) {
      if (this.paused) {
        this.held = held.slice(i);
        return;
      }
      this.dispatch(held[i]);
      if (this.isClosed) return;
    }
  }

  private dispatch(m: Message): void {
    try {
      for (const h of this.messageHandlers) {
        if (this.isClosed) return;
        h(m);
      }
    } catch (e) {
      this.destroy(asError(e));
    }
  }

  private poll(): void {
    if (this.pollTimer !== undefined) return;
    const tick = (): void => {
      this.pollTimer = undefined;
      if (this.isClosed || (this.waiters.length === 0 && this.drainHandlers.length === 0)) return;
      if (this.ws.bufferedAmount <= this.hwm) {
        const w = this.waiters;
        this.waiters = [];
        for (const x of w) x.resolve();
        for (const h of this.drainHandlers) h();
        return;
      }
      this.pollTimer = setTimeout(tick, POLL_MS);
    };
    this.pollTimer = setTimeout(tick, POLL_MS);
  }

  private finish(reason: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reason = reason;
    this.held = null;
    this.messageHandlers = [];
    clearTimeout(this.pollTimer);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.reject(
        new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed: ${reason.message}`, {
          cause: reason,
        }),
      );
    }
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) {
      try {
        h(reason);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

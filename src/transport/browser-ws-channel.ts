/// <reference lib="dom" />
/**
 * A Channel over the browser's WebSocket: one binary message per qi message (the rule of
 * ws-frame.ts), received as ArrayBuffer and parsed in place (payloads are views, no copy). The
 * handlers, early queue, close-once, waiters and drain are ChannelBase's; what differs, all
 * due to what browsers allow:
 *  - drain: `bufferedAmount` is polled (browsers have no drain event) after a send went over
 *    the high-water mark;
 *  - pause(): a browser cannot stop reading a WebSocket, so paused messages are held in memory
 *    and delivered on resume();
 *  - destroy() is close() (there is no way to drop the TCP connection without a close frame).
 */
import { DEFAULT_MAX_PAYLOAD, type Message } from "../wire/index.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_HIGH_WATER_MARK } from "./channel.js";
import { ChannelBase } from "./channel-base.js";
import { asError, TransportError } from "./errors.js";
import type { ConnectOptions } from "./options.js";
import { formatHostPort } from "./url.js";
import { closeCodeFor, closeReasonText, encodeFrame, parseFrame, WsCloseCode } from "./ws-frame.js";

export interface BrowserChannelOptions extends ConnectOptions {
  /** Another WebSocket implementation (tests, workers); default globalThis.WebSocket. */
  WebSocket?: typeof WebSocket;
}

/** How often bufferedAmount is looked at while a sender waits for the buffer to drain. */
const POLL_MS = 10;
/** As socket-driver.ts's (a Node module this bundle cannot load). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** `ws://host:port` of a WebSocket URL (what remoteUrl shows). */
function origin(url: string): { scheme: "ws" | "wss"; host: string; port: number } {
  const u = new URL(url);
  const scheme = u.protocol === "wss:" ? "wss" : "ws";
  const port = u.port !== "" ? Number(u.port) : scheme === "wss" ? 443 : 80;
  return { scheme, host: u.hostname.replace(/^\[|\]$/g, ""), port };
}

export class BrowserWsChannel extends ChannelBase {
  /** Close code and reason of the WebSocket once closed. */
  closeCode: number | undefined;
  closeText: string | undefined;

  private readonly ws: WebSocket;
  private readonly maxPayload: number;
  /** Messages received while paused (a browser keeps reading whatever we do). */
  private held: Message[] = [];
  private sourcePaused = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(ws: WebSocket, opts: BrowserChannelOptions) {
    const o = origin(ws.url);
    super(
      {
        remoteAddress: o.host,
        remoteUrl: `${o.scheme}://${formatHostPort(o.host, o.port)}`,
        localUrl: `${o.scheme}://browser`,
        isSecure: o.scheme === "wss",
      },
      {
        highWaterMark: opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
        closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      },
    );
    this.ws = ws;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
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
      if (opts.signal?.aborted) {
        reject(new TransportError("ERR_ABORTED", `connect to ${url} aborted`, { cause: opts.signal.reason }));
        return;
      }
      let ws: WebSocket;
      try {
        ws = new Ctor(url);
      } catch (e) {
        reject(new TransportError("ERR_BAD_URL", `cannot open ${url}: ${asError(e).message}`, { cause: e }));
        return;
      }
      ws.binaryType = "arraybuffer";
      const fail = (err: TransportError): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        ws.onclose = null;
        ws.close();
        reject(err);
      };
      const onAbort = (): void =>
        fail(new TransportError("ERR_ABORTED", `connect to ${url} aborted`, { cause: opts.signal?.reason }));
      const timeout = opts.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer =
        timeout > 0
          ? setTimeout(
              () =>
                fail(new TransportError("ERR_TIMEOUT", `connect to ${url} timed out after ${timeout} ms`)),
              timeout,
            )
          : undefined;
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      ws.onopen = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        resolve(new BrowserWsChannel(ws, opts));
      };
      ws.onclose = (ev) =>
        // Browsers hide why a WebSocket failed (refused, 403 Origin, TLS): say what it may be.
        fail(
          new TransportError(
            "ERR_CONNECT",
            `cannot connect to ${url} (WebSocket closed with ${ev.code}${ev.reason ? ` ${ev.reason}` : ""}): ` +
              "server unreachable, or this page's origin is not allowed by the listener",
          ),
        );
    });
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
    this.pollUntilDrained();
    return false;
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

  protected pauseSource(): void {
    this.sourcePaused = true;
  }

  protected resumeSource(): void {
    this.sourcePaused = false;
    queueMicrotask(() => {
      while (this.held.length > 0 && !this.sourcePaused && !this.isClosed) this.hand(this.held.shift()!);
    });
  }

  // --------------------------------------------------------------------------------------------

  private closeWith(code: number, text: string, reason?: Error): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeText = text;
    this.held = [];
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
    if (this.sourcePaused || this.held.length > 0) this.held.push(msg);
    else this.hand(msg);
  }

  /** To ChannelBase (handlers or its early queue); a handler that throws closes the channel. */
  private hand(msg: Message): void {
    try {
      this.deliver(msg);
    } catch (e) {
      this.destroy(asError(e));
    }
  }

  private pollUntilDrained(): void {
    if (this.pollTimer !== undefined) return;
    const tick = (): void => {
      this.pollTimer = undefined;
      if (this.isClosed) return;
      if (this.ws.bufferedAmount <= this.hwm) this.onFlushed();
      else this.pollTimer = setTimeout(tick, POLL_MS);
    };
    this.pollTimer = setTimeout(tick, POLL_MS);
  }
}

/**
 * Schemes `ws` and `wss`: qi messages over WebSocket (RFC 6455), for browsers and for clients
 * behind HTTP proxies. Built on the `ws` package.
 *
 * Framing (ws-frame.ts): one binary WebSocket message per qi message, 28-byte header + payload.
 * A text message gets close code 1008, a binary message that is not exactly one well-formed qi
 * message (short, trailing bytes, bad magic/version/type) gets 1007, one over maxPayload 1009;
 * the close frame carries the reason and the channel closes with the matching error. No
 * compression (permessage-deflate is off: qi payloads are mostly binary, and compressing
 * attacker-chosen data next to secrets is how CRIME/BREACH work).
 *
 * Listening: an HTTP(S) server that upgrades requests on any path to qi-over-WebSocket (so the
 * endpoint `ws://host:port` works, as does `ws://host:port/qi`). Other HTTP requests go to
 * `ListenOptions.ws.httpHandler` (404 without one). Browsers send an Origin header and are
 * refused with 403 unless their origin is in `ws.allowedOrigins`, or is the listener itself
 * (a page this very server served: Origin equal to `http(s)://<Host header>` where the host is
 * an IP address, `localhost` or the listening host — not any name, which would let a DNS
 * rebinding page in). Clients without Origin (Node, libqi, curl) are accepted: they are not
 * browsers, whose ambient authority the check protects. Authentication is the qi handshake.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP, type Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { connect as tlsConnect } from "node:tls";
import WebSocket, { type ClientOptions, type RawData, WebSocketServer } from "ws";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../wire/index.js";
import {
  type Channel,
  type ChannelOptions,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  socketCloseReason,
} from "./channel.js";
import { asError, isTlsErrorCode, nodeErrorCode, TransportError, tlsError } from "./errors.js";
import type {
  ConnectOptions,
  Listener,
  ListenOptions,
  OnChannel,
  SchemeDriver,
  WsListenOptions,
} from "./options.js";
import { NodeChannelBase } from "./channel-base.js";
import {
  type Accepted,
  acceptTcp,
  becameChannel,
  bindListener,
  DEFAULT_ACCEPT_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  setupDone,
} from "./socket-driver.js";
import { handshakeTimeoutOf, normalizeFingerprint } from "./tls.js";
import { formatHostPort, formatUrl, type QiUrl } from "./url.js";
import { closeCodeFor, closeReasonText, encodeFrame, parseFrame, WsCloseCode } from "./ws-frame.js";
import { WsSizeGuard } from "./ws-size-guard.js";

export type WsScheme = "ws" | "wss";

const allocFrame = (n: number): Uint8Array => Buffer.allocUnsafe(n);

/** How long a peer that announced an oversized message gets to read our close frame. */
const OVERSIZED_CLOSE_GRACE_MS = 500;

/** A Channel over one WebSocket (client or server side) of the `ws` package. */
export class WsChannel extends NodeChannelBase {
  /** The close code and reason of the WebSocket close, once closed (1006: no close frame). */
  closeCode: number | undefined;
  closeText: string | undefined;

  private readonly ws: WebSocket;
  private readonly socket: Socket;
  private maxPayload: number;
  private corked = false;
  /**
   * Server side, while our limit is below the `ws` library's own (before authentication): reads
   * the frame headers off the socket so an oversized message is refused before it is buffered.
   */
  private guard: WsSizeGuard | undefined;
  /** The largest message (header included) the `ws` library itself accepts on this socket. */
  private readonly libraryLimit: number;

  /**
   * `libraryLimit`: server side, the maxPayload the `ws` server was made with; a lower limit
   * (setMaxPayload) is then enforced on frame headers, before `ws` buffers anything.
   */
  constructor(
    ws: WebSocket,
    socket: Socket,
    scheme: WsScheme,
    opts: ChannelOptions = {},
    libraryLimit?: number,
  ) {
    super(socket, scheme, scheme === "wss", opts, {
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      keepAliveMs: 30_000,
    });
    this.ws = ws;
    this.socket = socket;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.libraryLimit = libraryLimit ?? Number.POSITIVE_INFINITY;
    if (libraryLimit !== undefined) {
      // Before the ws library's listener: the header of an oversized message is seen first.
      this.guard = new WsSizeGuard(this.maxPayload + HEADER_SIZE);
      socket.prependListener("data", this.onRawData);
    }
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on("close", (code: number, why: Buffer) => {
      this.closeCode ??= code;
      this.closeText ??= why.toString();
      const detail = `${code}${why.length > 0 ? ` ${why.toString()}` : ""}`;
      const text =
        code === 1006
          ? `connection ${this.remoteUrl} lost (1006: closed without a close frame)`
          : `connection ${this.remoteUrl} closed by peer (${detail})`;
      this.finish(new TransportError("ERR_CLOSED", text));
    });
    ws.on("error", (err: Error) => this.finish(this.errorReason(err)));
    if (ws.readyState !== WebSocket.OPEN) {
      this.finish(new TransportError("ERR_CLOSED", "WebSocket not open"));
    }
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const frame = encodeFrame(msg, allocFrame); // validates the header before anything is sent
    const over = this.ws.bufferedAmount + frame.byteLength > this.hwm;
    // Frames sent in one tick leave in one writev (as on SocketChannel): the ws library writes
    // each frame apart, a syscall per message when events fan out to a browser.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(frame, { binary: true, compress: false, fin: true }, over ? this.onFlushed : undefined);
    return this.ws.bufferedAmount <= this.hwm;
  }

  /** Closes gracefully: pending output is sent, then a close frame (1000). */
  close(reason?: Error): void {
    this.closeWith(WsCloseCode.Normal, "", reason);
  }

  destroy(reason?: Error): void {
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`));
    this.ws.terminate();
  }

  /**
   * Messages over `limit` are refused from now on. Server side, below the ws library's own cap
   * the refusal happens on the frame header (nothing of the message is buffered); once the limit
   * reaches that cap the header check stops and the library enforces it (no cost per frame).
   */
  setMaxPayload(limit: number): void {
    this.maxPayload = limit;
    const guard = this.guard;
    if (guard === undefined) return;
    if (limit + HEADER_SIZE >= this.libraryLimit) this.dropGuard();
    else guard.limit = limit + HEADER_SIZE;
  }

  private readonly onRawData = (chunk: Buffer): void => {
    const guard = this.guard;
    if (guard === undefined || guard.push(chunk)) return;
    const size = guard.refusedSize - HEADER_SIZE;
    this.dropGuard();
    this.socket.pause(); // the rest of that message is never read
    this.closeWith(
      WsCloseCode.TooBig,
      `message over the limit of ${this.maxPayload} payload bytes`,
      new TransportError(
        "ERR_SOCKET",
        `${this.remoteUrl} announced a ${size}-byte message over the limit of ${this.maxPayload} payload bytes (closed with 1009 before reading it)`,
      ),
      OVERSIZED_CLOSE_GRACE_MS,
    );
  };

  private dropGuard(): void {
    this.guard = undefined;
    this.socket.off("data", this.onRawData);
  }

  protected pauseSource(): void {
    this.ws.pause();
  }

  protected resumeSource(): void {
    this.ws.resume();
  }

  // --------------------------------------------------------------------------------------------

  private closeWith(code: number, text: string, reason?: Error, graceMs = this.closeTimeout): void {
    if (this.isClosed) return;
    this.closeCode = code;
    this.closeText = text;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    const timer = setTimeout(() => ws.terminate(), graceMs);
    timer.unref();
    ws.once("close", () => clearTimeout(timer));
    ws.close(code, closeReasonText(text));
  }

  private errorReason(err: Error): Error {
    const code = nodeErrorCode(err);
    if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      this.closeCode = WsCloseCode.TooBig;
      return new TransportError(
        "ERR_SOCKET",
        `${this.remoteUrl} sent a message over the limit of ${this.maxPayload} payload bytes (closed with 1009)`,
        { cause: err },
      );
    }
    if (code?.startsWith("WS_ERR_")) {
      return new TransportError(
        "ERR_SOCKET",
        `WebSocket protocol error from ${this.remoteUrl}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    return socketCloseReason(err, this.remoteUrl);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.isClosed) return;
    if (!isBinary) {
      const text = "text frames are not accepted: send each qi message as one binary frame";
      this.closeWith(
        WsCloseCode.PolicyViolation,
        text,
        new TransportError("ERR_SOCKET", `${this.remoteUrl} sent a text frame (closed with 1008)`),
      );
      return;
    }
    const buf = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : (data as Buffer);
    let msg: Message;
    try {
      msg = parseFrame(buf, this.maxPayload);
    } catch (e) {
      const err = asError(e);
      this.closeWith(closeCodeFor(err), err.message, err);
      return;
    }
    try {
      this.deliver(msg);
    } catch (e) {
      this.destroy(asError(e));
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Connecting

function badOptions(message: string): TransportError {
  return new TransportError("ERR_BAD_OPTIONS", message);
}

/** TLS options for the https request ws makes (passed through to tls.connect). */
function clientTls(url: QiUrl, opts: ConnectOptions): { options: ConnectionOptions; pins: string[] } {
  const t = opts.tls ?? {};
  const pinList =
    t.pinnedSha256 === undefined
      ? []
      : typeof t.pinnedSha256 === "string"
        ? [t.pinnedSha256]
        : t.pinnedSha256;
  const pins = pinList.map(normalizeFingerprint);
  const skip = t.insecureAcceptAnyCertificate === true || pins.length > 0;
  const options: ConnectionOptions = { minVersion: t.minVersion ?? "TLSv1.2", rejectUnauthorized: !skip };
  const servername = t.servername ?? (isIP(url.host) ? undefined : url.host);
  if (servername !== undefined) options.servername = servername;
  if (skip) options.checkServerIdentity = () => undefined;
  if (t.ca !== undefined) options.ca = t.ca;
  if (t.cert !== undefined) options.cert = t.cert;
  if (t.key !== undefined) options.key = t.key;
  if (t.passphrase !== undefined) options.passphrase = t.passphrase;
  return { options, pins };
}

function colonHex(hex: string): string {
  return hex.replace(/(..)(?!$)/g, "$1:");
}

/** Opens a qi-over-WebSocket channel to `url` (path default `/`). */
export function wsConnect(url: QiUrl & { scheme: WsScheme }, opts: ConnectOptions): Promise<Channel> {
  const scheme = url.scheme;
  const where = formatUrl(url);
  const secure = scheme === "wss";
  return new Promise<Channel>((resolve, reject) => {
    const signal = opts.signal;
    if (signal?.aborted) {
      reject(new TransportError("ERR_ABORTED", `connect to ${where} aborted`, { cause: signal.reason }));
      return;
    }
    let options: ClientOptions = {
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: (opts.maxPayload ?? DEFAULT_MAX_PAYLOAD) + HEADER_SIZE,
    };
    let pins: string[] = [];
    if (secure) {
      try {
        const built = clientTls(url, opts);
        options = { ...options, ...(built.options as ClientOptions) };
        pins = built.pins;
      } catch (e) {
        reject(e);
        return;
      }
      if (pins.length > 0) {
        // Check the pin as soon as the TLS handshake is done, before the upgrade request.
        options.createConnection = ((o: Parameters<typeof tlsConnect>[0]) => {
          const s = tlsConnect(o);
          s.once("secureConnect", () => {
            const fp = s.getPeerCertificate().fingerprint256 ?? "";
            const got = fp.replace(/:/g, "").toUpperCase();
            if (pins.includes(got)) return;
            s.destroy(
              new TransportError(
                "ERR_TLS",
                `TLS: certificate of ${where} does not match the pinned fingerprint ` +
                  `(got SHA-256 ${fp || "none"}, pinned ${pins.map(colonHex).join(", ")})`,
              ),
            );
          });
          return s;
        }) as unknown as ClientOptions["createConnection"];
      }
    }
    const target = `${scheme}://${formatHostPort(url.host, url.port)}${url.path ?? "/"}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(target, options);
    } catch (e) {
      reject(
        new TransportError("ERR_BAD_URL", `cannot connect to ${where}: ${asError(e).message}`, { cause: e }),
      );
      return;
    }
    let socket: Socket | undefined;
    let done = false;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      ws.off("error", onError);
      ws.off("open", onOpen);
    };
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      cleanup();
      ws.on("error", () => {}); // late errors of a socket we are abandoning
      ws.terminate();
      reject(err);
    };
    const onError = (e: Error): void => {
      if (e instanceof TransportError) {
        fail(e);
        return;
      }
      const code = nodeErrorCode(e);
      if (secure && isTlsErrorCode(code)) {
        fail(tlsError(where, e));
        return;
      }
      fail(new TransportError("ERR_CONNECT", `cannot connect to ${where}: ${e.message}`, { cause: e }));
    };
    const onAbort = (): void =>
      fail(new TransportError("ERR_ABORTED", `connect to ${where} aborted`, { cause: signal?.reason }));
    const onOpen = (): void => {
      if (done) return;
      done = true;
      cleanup();
      try {
        if (!socket)
          throw new TransportError("ERR_CONNECT", `connection to ${where}: no socket after the upgrade`);
        resolve(new WsChannel(ws, socket, scheme, opts));
      } catch (e) {
        ws.terminate();
        reject(e);
      }
    };
    ws.once("upgrade", (res: IncomingMessage) => {
      socket = res.socket as Socket;
    });
    ws.once("unexpected-response", (req, res) => {
      req.destroy();
      const status = `${res.statusCode} ${res.statusMessage ?? ""}`.trim();
      fail(new TransportError("ERR_CONNECT", `${where} refused the WebSocket upgrade: HTTP ${status}`));
    });
    ws.on("error", onError);
    ws.once("open", onOpen);
    const timeout = opts.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer =
      timeout > 0
        ? setTimeout(
            () =>
              fail(new TransportError("ERR_TIMEOUT", `connect to ${where} timed out after ${timeout} ms`)),
            timeout,
          )
        : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// ------------------------------------------------------------------------------------------------
// Listening

function _isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "0:0:0:0:0:0:0:0";
}

/** Why a browser's upgrade request is refused (undefined: accepted). */
export function originRefusal(
  origin: string | undefined,
  hostHeader: string | undefined,
  secure: boolean,
  listenHost: string,
  ws: WsListenOptions | undefined,
): string | undefined {
  if (origin === undefined) return undefined; // not a browser
  const o = origin.trim().toLowerCase().replace(/\/$/, "");
  if ((ws?.allowedOrigins ?? []).some((a) => a.trim().toLowerCase().replace(/\/$/, "") === o))
    return undefined;
  if (hostHeader !== undefined && sameOrigin(o, hostHeader.toLowerCase(), secure, listenHost.toLowerCase())) {
    return undefined;
  }
  return `origin ${origin} is not allowed (add it to ws.allowedOrigins)`;
}

function sameOrigin(origin: string, host: string, secure: boolean, listenHost: string): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== (secure ? "https:" : "http:")) return false;
  const defaultPort = secure ? "443" : "80";
  const norm = (h: string): string =>
    h.endsWith(`:${defaultPort}`) ? h.slice(0, -defaultPort.length - 1) : h;
  if (norm(u.host) !== norm(host)) return false;
  const name = u.hostname.replace(/^\[|\]$/g, "");
  // Only names that cannot be rebound by a foreign DNS server.
  return isIP(name) !== 0 || name === "localhost" || name === listenHost;
}

function refuse(socket: import("node:stream").Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? "Forbidden" : "Service Unavailable"}\r\n` +
      `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function wsListen(
  url: QiUrl & { scheme: WsScheme },
  opts: ListenOptions,
  onChannel: OnChannel,
): Promise<Listener> {
  const scheme = url.scheme;
  const secure = scheme === "wss";
  const t = opts.tls;
  if (secure && (t?.key === undefined || t.cert === undefined)) {
    return Promise.reject(badOptions(`${formatUrl(url)}: a wss listener needs tls.key and tls.cert`));
  }
  const report = (e: unknown): void => {
    try {
      opts.onError?.(asError(e));
    } catch {
      // nowhere to report it
    }
  };
  const server: HttpServer = secure
    ? createHttpsServer({
        key: t!.key,
        cert: t!.cert,
        passphrase: t!.passphrase,
        minVersion: t!.minVersion ?? "TLSv1.2",
        handshakeTimeout: handshakeTimeoutOf(opts),
      })
    : createHttpServer();
  // Node's own slowloris check (headersTimeout) runs only every 30 s: the accept deadline
  // (acceptTcp) is what closes a slow upgrade on time; this one covers later keep-alive requests.
  const acceptTimeout = opts.acceptTimeout ?? DEFAULT_ACCEPT_TIMEOUT_MS;
  if (acceptTimeout > 0) server.headersTimeout = Math.min(server.headersTimeout, acceptTimeout);
  const libraryLimit = (opts.maxPayload ?? DEFAULT_MAX_PAYLOAD) + HEADER_SIZE;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: libraryLimit,
  });
  const channels = new Set<Channel>();
  const raw = new Set<Socket>();
  const accepted: Accepted = { channels, raw, closing: false, arriving: new Map() };
  let bound = formatUrl(url);
  const setup = secure ? "TLS handshake and WebSocket upgrade" : "WebSocket upgrade";

  server.on("connection", (s: Socket) => acceptTcp(s, scheme, opts, accepted, report, setup));
  if (secure) {
    server.on("tlsClientError", (err: Error, socket: Socket) => {
      socket.destroy();
      report(tlsError(`${bound} (client handshake)`, err));
    });
  }
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    setupDone(accepted, req.socket as Socket);
    const handler = opts.ws?.httpHandler;
    if (!handler) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("not found: this is a qi WebSocket endpoint\n");
      return;
    }
    try {
      handler(req, res);
    } catch (e) {
      report(e);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end("internal error\n");
    }
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => {});
    if (accepted.closing) {
      refuse(socket, 503, "listener closing");
      return;
    }
    const why = originRefusal(req.headers.origin, req.headers.host, secure, url.host, opts.ws);
    if (why) {
      refuse(socket, 403, why);
      report(
        new TransportError(
          "ERR_SOCKET",
          `${bound}: refused a WebSocket from ${req.socket.remoteAddress}: ${why}`,
        ),
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (accepted.closing) {
        ws.terminate();
        return;
      }
      let ch: WsChannel;
      try {
        ch = new WsChannel(ws, req.socket as Socket, scheme, opts, libraryLimit);
      } catch (e) {
        ws.terminate();
        report(e);
        return;
      }
      becameChannel(accepted, req.socket as Socket, ch);
      if (ch.closed) return;
      channels.add(ch);
      ch.onClose(() => channels.delete(ch));
      try {
        onChannel(ch);
      } catch (e) {
        ch.destroy(asError(e));
        report(e);
      }
    });
  });
  wss.on("error", report);

  return bindListener(server, url, scheme, opts, accepted, report, (b) => {
    bound = b;
  });
}

function wsDriverFor(scheme: WsScheme): SchemeDriver {
  return {
    connect: (url, opts) => wsConnect({ ...url, scheme }, opts),
    listen: (url, opts, onChannel) => wsListen({ ...url, scheme }, opts, onChannel),
  };
}

export const wsDriver: SchemeDriver = wsDriverFor("ws");
export const wssDriver: SchemeDriver = wsDriverFor("wss");

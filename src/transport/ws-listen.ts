/**
 * The server side of ws / wss: an HTTP(S) server that upgrades requests on any path to
 * qi-over-WebSocket and hands other requests to `ws.httpHandler`; browsers are held to the
 * Origin rule described in ws.ts.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP, type Socket } from "node:net";
import { WebSocketServer } from "ws";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE } from "../wire/index.js";
import type { Channel } from "./channel.js";
import { asError, TransportError, tlsError } from "./errors.js";
import type { Listener, ListenOptions, OnChannel, WsListenOptions } from "./options.js";
import {
  type Accepted,
  acceptTcp,
  bindListener,
  DEFAULT_ACCEPT_TIMEOUT_MS,
  handOver,
  setupDone,
} from "./socket-driver.js";
import { handshakeTimeoutOf } from "./tls.js";
import { formatUrl, type QiUrl } from "./url.js";
import { WsChannel, type WsScheme } from "./ws-channel.js";

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
    return Promise.reject(
      new TransportError("ERR_BAD_OPTIONS", `${formatUrl(url)}: a wss listener needs tls.key and tls.cert`),
    );
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
  const raw = new Set<Socket>();
  const accepted: Accepted = { channels: new Set<Channel>(), raw, closing: false, arriving: new Map() };
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
    const route = opts.ws?.upgradeRoutes?.get(new URL(req.url ?? "/", "http://x").pathname);
    if (route) {
      setupDone(accepted, req.socket as Socket);
      route(req, socket, head);
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
      handOver(accepted, req.socket as Socket, ch, onChannel, report);
    });
  });
  wss.on("error", report);

  return bindListener(server, url, scheme, opts, accepted, report, (b) => {
    bound = b;
  });
}

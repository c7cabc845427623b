/**
 * A WebSocket listener of its own for a web bridge (rosbridge, Foxglove): `ws://host:port[/path]`
 * or `wss://` with a PEM certificate and key, at most `maxClients` sockets, frames over
 * `maxPayload` refused by `ws` itself, no compression (camera frames do not compress,
 * permessage-deflate costs memory per socket, and ws-pieces.ts writes beside `ws` only
 * because nothing waits in its queue). Port 0 picks a free port; `url` says which.
 * Or, with `mountWeb`, a path on the gateway's own ws listener.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { rememberSocket } from "./ws-pieces.js";

export interface WebListenerOptions {
  listen: string;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  maxClients: number;
  maxPayload: number;
  /** Picks the subprotocol (Foxglove needs its own); false refuses the upgrade. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /**
   * Checked before the upgrade (credentials in the URL or a header): what it resolves is handed
   * to onConnection; `false` answers 401 and no WebSocket is made.
   */
  admit?: (request: IncomingMessage) => Promise<unknown>;
  onConnection(socket: WebSocket, request: IncomingMessage, admitted: unknown): void;
}

export interface WebListener {
  /** Where clients connect, with the port actually bound. */
  readonly url: string;
  readonly clients: Set<WebSocket>;
  close(): Promise<void>;
}

/** The part of the gateway a mounted bridge uses: its ws listeners' routes and where they are. */
export interface WebMountPoint {
  routeWebSocket(
    path: string,
    route: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  ): () => void;
  endpoints(): string[];
}

function webSocketServer(o: WebListenerOptions): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: o.maxPayload,
    perMessageDeflate: false,
    ...(o.handleProtocols ? { handleProtocols: o.handleProtocols } : {}),
  });
}

/** The upgrade of one request: the client cap, then the check before the upgrade, then the bridge. */
function upgrader(o: WebListenerOptions, wss: WebSocketServer) {
  let checking = 0;
  return (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (wss.clients.size + checking >= o.maxClients) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    const connected = (ws: WebSocket, admitted: unknown) => {
      rememberSocket(ws, socket);
      o.onConnection(ws, request, admitted);
    };
    if (!o.admit) {
      wss.handleUpgrade(request, socket, head, (ws) => connected(ws, undefined));
      return;
    }
    // Counted while the check runs, so a flood of slow logins cannot exceed maxClients.
    checking++;
    socket.on("error", () => {});
    o.admit(request)
      .catch(() => false)
      .then((admitted) => {
        checking--;
        if (socket.destroyed) return;
        if (admitted === false) {
          socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => connected(ws, admitted));
      });
  };
}

async function closeAll(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
}

/**
 * The bridge on a path of the gateway's own ws/wss listener(s) (`ws://host:9503/rosbridge`):
 * the gateway's Origin rule and connection caps apply first, then this bridge's own.
 */
export function mountWeb(gateway: WebMountPoint, path: string, o: WebListenerOptions): WebListener {
  const base = gateway.endpoints().find((e) => /^wss?:\/\//.test(e));
  if (!base) throw new Error(`a path (${path}) needs the gateway to listen on ws:// or wss://`);
  const wss = webSocketServer(o);
  const upgrade = upgrader(o, wss);
  // With and without the trailing slash: Foxglove's URLs end in `/?user=…`.
  const unroute = [gateway.routeWebSocket(path, upgrade), gateway.routeWebSocket(`${path}/`, upgrade)];
  return {
    url: `${base.replace(/\/$/, "")}${path}`,
    clients: wss.clients,
    close: async () => {
      for (const undo of unroute) undo();
      await closeAll(wss);
    },
  };
}

export async function listenWeb(o: WebListenerOptions): Promise<WebListener> {
  const url = new URL(o.listen);
  const secure = url.protocol === "wss:";
  const server: Server = secure
    ? createHttpsServer({ cert: readFileSync(o.tlsCert!), key: readFileSync(o.tlsKey!) })
    : createHttpServer();
  server.on("request", (_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("a WebSocket endpoint\n");
  });
  const path = url.pathname === "" ? "/" : url.pathname;
  const wss = webSocketServer(o);
  const upgrade = upgrader(o, wss);
  server.on("upgrade", (request, socket, head) => {
    const reqPath = new URL(request.url ?? "/", "http://x").pathname;
    if (reqPath !== path && path !== "/") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    upgrade(request, socket, head);
  });
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${url.protocol}//${shownHost}:${bound}${path === "/" ? "" : path}`,
    clients: wss.clients,
    close: async () => {
      await closeAll(wss);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

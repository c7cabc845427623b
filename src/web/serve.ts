/**
 * The HTTP side of a ws/wss listener that hosts the web console: plug the returned function in
 * as `ListenOptions.ws.httpHandler` (WebSocket upgrades never reach it).
 *
 *   /             the console (index.html)
 *   /qi.js        the browser client bundle (also importable by other pages: same origin)
 *   /stats.json   `stats(viewer)` as JSON (404 without it), never cached; behind
 *                 `authenticate` when given (HTTP Basic with the qi user and token), which
 *                 names the viewer (the stats show a user only what they may see)
 *   /robots.json  `robots()` as JSON: the robots discovery found on the LAN (404 when discovery
 *                 is off), behind `authenticate` as /stats.json
 *   /<file>       other files of `root` (dist/web), with their content type
 *
 * Only GET and HEAD; no directory listing; paths that leave `root` are refused. Pages get a
 * Content-Security-Policy that allows scripts from this origin only and WebSockets anywhere
 * (the console may be pointed at another gateway).
 */
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";
import { plainAddress } from "../transport/index.js";

export interface WebHandlerOptions {
  /** Directory with the built files (dist/web, see src/web/build.ts); without it, only /stats.json. */
  root: string | undefined;
  /**
   * Served as /stats.json (gateway clients, traffic, dropped events...), for `viewer`: the
   * identity `authenticate` answered (undefined without `authenticate`).
   */
  stats?: (viewer: string | undefined) => object | Promise<object>;
  /** Served as /robots.json (a bounded list: discovery/ keeps at most 64); absent: discovery is off. */
  robots?: () => object[];
  /**
   * Guards /stats.json (it names users and peers): called with the user and token of an
   * `Authorization: Basic` header (both undefined without one) and the client's address, so
   * the gateway can apply its own credentials, rate limiting and anonymous policy. Answers
   * who the requester is, or undefined to refuse.
   */
  authenticate?: (
    user: string | undefined,
    token: string | undefined,
    remoteAddress: string,
  ) => Promise<string | undefined>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    ...(type.startsWith("text/html") ? { "content-security-policy": CSP } : {}),
  });
  res.end(head ? undefined : body);
}

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

type Credentials = { user: string | undefined; token: string | undefined };

/** The user and token of an `Authorization: Basic` header; undefined when it is malformed. */
function basicCredentials(header: string | undefined): Credentials | undefined {
  if (header === undefined) return { user: undefined, token: undefined };
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  // RFC 7617: the user cannot contain a colon, the password (our token) can.
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

/**
 * 401 with a JSON reason and deliberately no WWW-Authenticate header: with one, browsers would
 * pop up their own login dialog over the console, which has its own login form.
 */
function unauthorized(res: ServerResponse, reason: string, head: boolean): void {
  send(res, 401, TYPES[".json"], json({ error: reason }), head);
}

export function createWebHandler(
  options: WebHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const root = options.root === undefined ? undefined : resolve(options.root);
  /**
   * Who asks, by `authenticate` (undefined without it); null once a 401 has been sent. The
   * robots on the LAN are guarded like the stats: the addresses of a site's machines are not
   * for anyone who can reach the port.
   */
  const viewerOf = async (
    req: IncomingMessage,
    res: ServerResponse,
    head: boolean,
  ): Promise<string | undefined | null> => {
    if (!options.authenticate) return undefined;
    const credentials = basicCredentials(req.headers.authorization);
    if (!credentials) {
      unauthorized(res, "malformed Authorization header (expected Basic base64(user:token))", head);
      return null;
    }
    const viewer = await options.authenticate(
      credentials.user,
      credentials.token,
      plainAddress(req.socket.remoteAddress),
    );
    if (viewer === undefined) {
      unauthorized(
        res,
        credentials.user === undefined ? "credentials required" : "invalid user or token",
        head,
      );
      return null;
    }
    return viewer;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", false);
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      send(res, 400, "text/plain; charset=utf-8", "bad request\n", head);
      return;
    }
    if (path === "/robots.json") {
      if (!options.robots) {
        send(res, 404, "text/plain; charset=utf-8", "robot discovery is off (--discover)\n", head);
        return;
      }
      if ((await viewerOf(req, res, head)) === null) return;
      send(res, 200, TYPES[".json"], json(options.robots()), head);
      return;
    }
    if (path === "/stats.json") {
      if (!options.stats) {
        send(res, 404, "text/plain; charset=utf-8", "no statistics here\n", head);
        return;
      }
      let viewer: string | undefined;
      if (options.authenticate) {
        const credentials = basicCredentials(req.headers.authorization);
        if (!credentials) {
          unauthorized(res, "malformed Authorization header (expected Basic base64(user:token))", head);
          return;
        }
        const address = plainAddress(req.socket.remoteAddress);
        viewer = await options.authenticate(credentials.user, credentials.token, address);
        if (viewer === undefined) {
          unauthorized(
            res,
            credentials.user === undefined ? "credentials required" : "invalid user or token",
            head,
          );
          return;
        }
      }
      send(res, 200, TYPES[".json"], json(await options.stats(viewer)), head);
      return;
    }
    if (root === undefined) {
      send(res, 404, "text/plain; charset=utf-8", "not found\n", head);
      return;
    }
    if (path === "/" || path === "/index.html") path = "/index.html";
    const file = resolve(root, `.${path}`);
    if (path.includes("\0") || (file !== root && !file.startsWith(root + sep))) {
      send(res, 403, "text/plain; charset=utf-8", "forbidden\n", head);
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      send(res, 200, TYPES[extname(file).toLowerCase()] ?? "application/octet-stream", body, head);
    } catch {
      send(res, 404, "text/plain; charset=utf-8", "not found\n", head);
    }
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        send(res, 500, "text/plain; charset=utf-8", `internal error: ${(e as Error).message}\n`, false);
      else res.destroy();
    });
  };
}

/** The client side of ws / wss: a qi-over-WebSocket channel to a URL, TLS as tls-verify.ts says. */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import WebSocket, { type ClientOptions } from "ws";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE } from "../wire/index.js";
import type { Channel } from "./channel.js";
import { asError, isTlsErrorCode, nodeErrorCode, TransportError, tlsError } from "./errors.js";
import type { ConnectOptions } from "./options.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./socket-driver.js";
import { type ClientTlsPlan, clientTlsPlan, pinMismatch } from "./tls-verify.js";
import { formatHostPort, formatUrl, type QiUrl } from "./url.js";
import { WsChannel, type WsScheme } from "./ws-channel.js";

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
    if (secure) {
      let plan: ClientTlsPlan;
      try {
        plan = clientTlsPlan(url, opts.tls);
      } catch (e) {
        reject(e);
        return;
      }
      options = { ...options, ...(plan.options as ClientOptions) };
      const { pins } = plan;
      if (pins.length > 0) {
        // Check the pin as soon as the TLS handshake is done, before the upgrade request.
        options.createConnection = ((o: Parameters<typeof tlsConnect>[0]) => {
          const s = tlsConnect(o);
          s.once("secureConnect", () => {
            const mismatch = pinMismatch(s, pins, url);
            if (mismatch) s.destroy(mismatch);
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

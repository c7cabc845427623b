/**
 * The parts of connecting and listening shared by the socket schemes (tcp, tcps, tcpsm):
 * turning a connecting socket into a Channel with timeout/abort/error classification, and
 * turning a net/tls server into a Listener with published endpoints.
 */
import type { Server, Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { AdmissionTicket } from "./admission.js";
import { plainAddress } from "./channel-base.js";
import { type Channel, DEFAULT_CLOSE_TIMEOUT_MS, SocketChannel, type SocketScheme } from "./channel.js";
import { asError, isTlsErrorCode, nodeErrorCode, TransportError, tlsError } from "./errors.js";
import type { ConnectOptions, Listener, ListenOptions, OnChannel } from "./options.js";
import { formatUrl, type QiUrl, sortEndpoints } from "./url.js";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Listeners: TCP connect to channel (TLS handshake, HTTP upgrade) at most this long. */
export const DEFAULT_ACCEPT_TIMEOUT_MS = 10_000;

const noop = (): void => {};

export interface EstablishSpec {
  url: QiUrl & { scheme: SocketScheme };
  opts: ConnectOptions;
  /** Starts connecting (net.connect / tls.connect). */
  start: () => Socket;
  /** TLS: wait for secureConnect instead of connect. */
  secure: boolean;
  /** TLS: extra check once the handshake is done (certificate pinning); an Error fails the connect. */
  verify?: (socket: Socket) => Error | undefined;
}

/** Connects and resolves with a Channel, or rejects with a TransportError. */
export function establish(spec: EstablishSpec): Promise<Channel> {
  const { url, opts, secure } = spec;
  const where = formatUrl(url);
  return new Promise<Channel>((resolve, reject) => {
    const signal = opts.signal;
    if (signal?.aborted) {
      reject(new TransportError("ERR_ABORTED", `connect to ${where} aborted`, { cause: signal.reason }));
      return;
    }
    let socket: Socket;
    try {
      socket = spec.start();
    } catch (e) {
      reject(classify(e, false));
      return;
    }
    let tcpUp = false;
    let done = false;

    function classify(e: unknown, afterTcp: boolean): Error {
      if (e instanceof TransportError) return e;
      const code = nodeErrorCode(e);
      if (secure && (afterTcp || isTlsErrorCode(code))) return tlsError(where, e);
      if (afterTcp) {
        return new TransportError("ERR_CONNECT", `connection to ${where} failed: ${asError(e).message}`, {
          cause: e,
        });
      }
      return new TransportError("ERR_CONNECT", `cannot connect to ${where}: ${asError(e).message}`, {
        cause: e,
      });
    }
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      socket.off("connect", onTcp);
      socket.off(secure ? "secureConnect" : "connect", onReady);
    };
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      cleanup();
      socket.on("error", noop); // late errors of a socket we are abandoning
      socket.destroy();
      reject(err);
    };
    const onError = (e: unknown): void => fail(classify(e, tcpUp));
    const onAbort = (): void =>
      fail(new TransportError("ERR_ABORTED", `connect to ${where} aborted`, { cause: signal?.reason }));
    const onTcp = (): void => {
      tcpUp = true;
    };
    const onReady = (): void => {
      if (done) return;
      const bad = spec.verify?.(socket);
      if (bad) {
        fail(bad);
        return;
      }
      done = true;
      cleanup();
      try {
        resolve(new SocketChannel(socket, url.scheme, opts));
      } catch (e) {
        socket.destroy();
        reject(e);
      }
    };

    const timeout = opts.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer =
      timeout > 0
        ? setTimeout(() => {
            const phase = secure && tcpUp ? " (TLS handshake)" : "";
            fail(
              new TransportError("ERR_TIMEOUT", `connect to ${where} timed out after ${timeout} ms${phase}`),
            );
          }, timeout)
        : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("error", onError);
    if (secure) socket.once("connect", onTcp);
    socket.once(secure ? "secureConnect" : "connect", onReady);
  });
}

export interface ServeSpec {
  server: Server;
  url: QiUrl & { scheme: SocketScheme };
  opts: ListenOptions;
  onChannel: OnChannel;
  /** Server event that hands over a ready socket: "connection" (net) or "secureConnection" (tls). */
  readyEvent: "connection" | "secureConnection";
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "0:0:0:0:0:0:0:0";
}

function isLinkLocalV6(addr: string): boolean {
  return /^fe[89ab]/i.test(addr);
}

/** Local interface addresses reachable through a wildcard listener (link-local IPv6 skipped). */
export function wildcardAddresses(ipv4: boolean, ipv6: boolean): string[] {
  const out = new Set<string>();
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      // Node 18.0–18.3 reported family as a number.
      const family = String(info.family);
      if (ipv4 && (family === "IPv4" || family === "4")) out.add(info.address);
      if (ipv6 && (family === "IPv6" || family === "6") && !isLinkLocalV6(info.address))
        out.add(info.address);
    }
  }
  return [...out];
}

/** Starts `server` listening on `url` and resolves with a Listener. */
export function serve(spec: ServeSpec): Promise<Listener> {
  const { server, url, opts, onChannel } = spec;
  const scheme = url.scheme;
  const report = (e: unknown): void => {
    try {
      opts.onError?.(asError(e));
    } catch {
      // an onError that throws has nowhere to go
    }
  };
  const raw = new Set<Socket>();
  const accepted: Accepted = { channels: new Set<Channel>(), raw, closing: false, arriving: new Map() };
  const setup = spec.readyEvent === "secureConnection" ? "TLS handshake" : undefined;

  server.on("connection", (s: Socket) => acceptTcp(s, scheme, opts, accepted, report, setup));
  server.on(spec.readyEvent, (socket: Socket) => {
    if (accepted.closing) {
      socket.destroy();
      return;
    }
    let ch: SocketChannel;
    try {
      ch = new SocketChannel(socket, scheme, opts);
    } catch (e) {
      socket.destroy();
      report(e);
      return;
    }
    handOver(accepted, socket, ch, onChannel, report);
  });

  return bindListener(server, url, scheme, opts, accepted, report);
}

/** What a listener tracks so that closing it closes what it accepted. */
export interface Accepted {
  channels: Set<Channel>;
  /** Raw sockets, some maybe still in a TLS handshake or upgrade. */
  raw: Set<Socket>;
  /** Set once the listener is closing: new connections are refused. */
  closing: boolean;
  /** Connections accepted over TCP that are not channels yet, by connectionKey. */
  arriving: Map<string, Arriving>;
}

/** A TCP connection between its accept and its channel (TLS handshake, HTTP upgrade). */
interface Arriving {
  socket: Socket;
  ticket: AdmissionTicket | undefined;
  deadline: ReturnType<typeof setTimeout> | undefined;
}

/** One TCP connection, seen from its raw socket or from the TLS socket over it. */
function connectionKey(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localPort}`;
}

/**
 * Every listener's TCP accept: tracks the raw socket (closed with the listener), applies the
 * connection caps before any TLS or HTTP work, and, when `setup` names a phase before the
 * channel (TLS handshake, HTTP upgrade), closes the socket if that is not done within the
 * accept timeout of the connect, however slowly the client keeps sending.
 */
export function acceptTcp(
  s: Socket,
  scheme: QiUrl["scheme"],
  opts: ListenOptions,
  accepted: Accepted,
  report: (e: unknown) => void,
  setup: string | undefined,
): void {
  accepted.raw.add(s);
  const key = connectionKey(s);
  const arriving: Arriving = { socket: s, ticket: undefined, deadline: undefined };
  s.once("close", () => {
    accepted.raw.delete(s);
    if (arriving.deadline) clearTimeout(arriving.deadline);
    if (accepted.arriving.get(key) === arriving) accepted.arriving.delete(key);
    arriving.ticket?.release();
  });
  if (accepted.closing) {
    s.destroy();
    return;
  }
  if (opts.admission) {
    arriving.ticket = opts.admission.admit(s.remoteAddress, () => s.destroy());
    if (!arriving.ticket) {
      s.destroy();
      return;
    }
  }
  const ms = opts.acceptTimeout ?? opts.tls?.handshakeTimeout ?? DEFAULT_ACCEPT_TIMEOUT_MS;
  if (setup !== undefined && ms > 0) {
    const peer = formatUrl({ scheme, host: plainAddress(s.remoteAddress), port: s.remotePort ?? 0 });
    arriving.deadline = setTimeout(() => {
      s.destroy();
      report(
        new TransportError(
          "ERR_TIMEOUT",
          `${peer}: ${setup} not done within ${ms} ms of connecting (closed)`,
        ),
      );
    }, ms);
    arriving.deadline.unref();
  }
  accepted.arriving.set(key, arriving);
}

/** The setup phase is over (a plain HTTP request came): the deadline stops, the caps still count it. */
export function setupDone(accepted: Accepted, socket: Socket): void {
  const arriving = accepted.arriving.get(connectionKey(socket));
  if (arriving?.deadline) clearTimeout(arriving.deadline);
}

/** The connection is a channel now: its deadline stops, its cap ticket goes with the channel. */
export function becameChannel(accepted: Accepted, socket: Socket, ch: Channel): void {
  const key = connectionKey(socket);
  const arriving = accepted.arriving.get(key);
  if (arriving === undefined) return;
  accepted.arriving.delete(key);
  if (arriving.deadline) clearTimeout(arriving.deadline);
  const ticket = arriving.ticket;
  if (ticket === undefined) return;
  ch.admission = ticket;
  ticket.close = () =>
    ch.destroy(new TransportError("ERR_CLOSED", `${ch.remoteUrl} closed to make room (connection caps)`));
  // Released with the raw socket's close; also with the channel's, in case the two differ (TLS).
  ch.onClose(() => ticket.release());
}

/**
 * An accepted connection became a channel (TCP/TLS or WebSocket): it takes over the admission
 * ticket, the listener tracks it until it closes, and the listener's user gets it. A user that
 * throws loses that channel, not the listener.
 */
export function handOver(
  accepted: Accepted,
  socket: Socket,
  ch: Channel,
  onChannel: (ch: Channel) => void,
  report: (e: unknown) => void,
): void {
  becameChannel(accepted, socket, ch);
  if (ch.closed) return;
  accepted.channels.add(ch);
  ch.onClose(() => accepted.channels.delete(ch));
  try {
    onChannel(ch);
  } catch (e) {
    ch.destroy(asError(e));
    report(e);
  }
}

/** Anything that listens like net.Server (tls.Server, http(s).Server too). */
type ListeningServer = Pick<Server, "listen" | "address" | "close" | "once" | "off" | "on"> & {
  closeIdleConnections?: () => void;
};

/**
 * Binds `server` at `url` and builds the Listener: the published endpoints (one per interface
 * for a wildcard host, spec §6.3) and a close that also closes every accepted channel.
 */
export function bindListener(
  server: ListeningServer,
  url: QiUrl,
  scheme: QiUrl["scheme"],
  opts: ListenOptions,
  accepted: Accepted,
  report: (e: unknown) => void,
  onBound?: (boundUrl: string) => void,
): Promise<Listener> {
  let closing: Promise<void> | undefined;
  return new Promise<Listener>((resolve, reject) => {
    const onListenError = (e: Error): void => {
      const code = nodeErrorCode(e);
      const why =
        code === "EADDRINUSE"
          ? "address already in use"
          : code === "EADDRNOTAVAIL"
            ? "address not available on this machine"
            : e.message;
      reject(new TransportError("ERR_LISTEN", `cannot listen on ${formatUrl(url)}: ${why}`, { cause: e }));
    };
    server.once("error", onListenError);
    server.listen(
      { host: url.host, port: url.port, ipv6Only: opts.ipv6Only ?? false, backlog: opts.backlog },
      () => {
        server.off("error", onListenError);
        server.on("error", report);
        const addr = server.address();
        if (addr === null || typeof addr === "string") {
          reject(new TransportError("ERR_LISTEN", `cannot listen on ${formatUrl(url)}: no address`));
          return;
        }
        const port = addr.port;
        const bound = formatUrl({ scheme, host: addr.address, port });
        onBound?.(bound);
        const wildcard = isWildcard(addr.address);
        const v6 = addr.family === "IPv6" || String(addr.family) === "6";
        const closeTimeout = opts.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
        resolve({
          url: bound,
          port,
          endpoints(): string[] {
            if (!wildcard) return [bound];
            const hosts = wildcardAddresses(!v6 || !(opts.ipv6Only ?? false), v6);
            return sortEndpoints(hosts.map((host) => formatUrl({ scheme, host, port })));
          },
          close(): Promise<void> {
            if (!closing) {
              accepted.closing = true;
              closing = new Promise<void>((done) => {
                server.close(() => done());
                server.closeIdleConnections?.();
                const reason = new TransportError("ERR_CLOSED", `listener ${bound} closed`);
                for (const ch of accepted.channels) ch.close(reason);
                // Sockets still in a TLS handshake, or channels whose peer does not read. Not
                // unref'd: a process whose last work is awaiting this close would otherwise end
                // with the promise unsettled (exit 13 under a top-level await).
                const timer = setTimeout(() => {
                  for (const sock of accepted.raw) sock.destroy();
                }, closeTimeout);
                server.once("close", () => clearTimeout(timer));
              });
            }
            return closing;
          },
        });
      },
    );
  });
}

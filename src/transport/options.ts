/** Options and contracts shared by the scheme drivers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SecureVersion } from "node:tls";
import type { Admission } from "./admission.js";
import type { Channel, ChannelOptions } from "./channel.js";
import type { QiUrl } from "./url.js";

/** PEM text or DER/PEM bytes, or several of them. */
export type PemInput = string | Buffer | Array<string | Buffer>;

/** Client side of tcps / tcpsm. */
export interface ClientTlsOptions {
  /**
   * Trusted CA certificate(s) for the server certificate. Without it, Node's bundled root CAs.
   * Unlike libqi, the server certificate (chain and host name) is verified by default.
   */
  ca?: PemInput;
  /** Client certificate chain (required for tcpsm, optional for tcps). */
  cert?: PemInput;
  /** Private key of the client certificate. */
  key?: PemInput;
  passphrase?: string;
  /** Name checked against the certificate and sent as SNI; default the URL host (SNI only for names). */
  servername?: string;
  /**
   * Accept any server certificate without verification (what libqi does for tcps): for robots
   * with self-signed certificates. The connection is encrypted but not authenticated.
   */
  insecureAcceptAnyCertificate?: boolean;
  /**
   * SHA-256 fingerprint(s) of the accepted server certificate (hex, colons and case ignored, as
   * printed by `openssl x509 -fingerprint -sha256`). When set, the pin replaces CA and host-name
   * verification: exactly the pinned certificate(s) are accepted.
   */
  pinnedSha256?: string | readonly string[];
  /** Default "TLSv1.2". */
  minVersion?: SecureVersion;
}

/** Server side of tcps / tcpsm. */
export interface ServerTlsOptions {
  key: PemInput;
  cert: PemInput;
  passphrase?: string;
  /** CA(s) that client certificates must chain to. Required for tcpsm, ignored for tcps. */
  ca?: PemInput;
  /** Default "TLSv1.2" (as libqi ≥ 1.8). */
  minVersion?: SecureVersion;
  /**
   * ms allowed for a client to finish the handshake; default the listener's acceptTimeout
   * (10 000). Counted from the TCP connect, whatever the client sends meanwhile.
   */
  handshakeTimeout?: number;
}

export interface ConnectOptions extends ChannelOptions {
  /** ms for TCP connect + TLS handshake; default 10 000; 0 disables. */
  timeout?: number;
  signal?: AbortSignal;
  /** For tcps / tcpsm. */
  tls?: ClientTlsOptions;
  /** For xmpp: the client's own account (transport/xmpp/options.ts). */
  xmpp?: import("./xmpp/options.js").XmppConnectOptions;
}

export interface ListenOptions extends ChannelOptions {
  /** Required for tcps / tcpsm. */
  tls?: ServerTlsOptions;
  /** Listening on `::`: do not also accept IPv4 (default false: dual stack). */
  ipv6Only?: boolean;
  backlog?: number;
  /**
   * Errors that concern no channel: failed TLS handshakes of clients (e.g. tcpsm client without
   * a valid certificate), exceptions thrown by onChannel, server errors after listening started.
   */
  onError?: (err: Error) => void;
  /** ws / wss listeners only. */
  ws?: WsListenOptions;
  /**
   * ms from the TCP connect until the connection is a channel: the TLS handshake (tcps, tcpsm,
   * wss) and the HTTP upgrade request (ws, wss) must be done by then, or the socket is closed
   * (slowloris). Default 10 000 (DEFAULT_ACCEPT_TIMEOUT_MS); 0 disables.
   */
  acceptTimeout?: number;
  /**
   * Connection caps (shared by every listener given the same Admission): checked at the TCP
   * accept; each channel carries its ticket (`channel.admission`) to mark it authenticated.
   */
  admission?: Admission;
  /** xmpp listeners only: the robot's account, allow-list and caps (transport/xmpp/options.ts). */
  xmpp?: import("./xmpp/options.js").XmppListenOptions;
}

/** The HTTP side of a ws / wss listener. */
export interface WsListenOptions {
  /**
   * Browser origins (`https://console.example:8443`) allowed to open a WebSocket; any other
   * Origin is refused with 403. There is no wildcard. Requests without an Origin header
   * (non-browser clients) and same-origin requests (a page served by this listener, reached by
   * IP address, `localhost` or the listening host name) are always accepted.
   */
  allowedOrigins?: string[];
  /** Serves the non-upgrade HTTP requests of the listener (404 without one). */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Upgrades on these exact paths go to another WebSocket protocol (a web bridge mounted on
   * this listener), after the Origin rule; every other path stays qi. Read at each upgrade,
   * so entries may be added once the listener runs.
   */
  upgradeRoutes?: Map<string, WsUpgradeRoute>;
}

/** Takes over one upgrade request (it answers or upgrades the socket itself). */
export type WsUpgradeRoute = (
  req: IncomingMessage,
  socket: import("node:stream").Duplex,
  head: Buffer,
) => void;

export interface Listener {
  /** The bound address, e.g. `tcp://0.0.0.0:41234` (real port when 0 was asked). */
  readonly url: string;
  /** The real bound port. */
  readonly port: number;
  /**
   * The endpoints to publish, sorted like libqi (loopback first): the bound URL, or for a
   * wildcard host (`0.0.0.0`, `::`) one URL per local interface address, computed on each call.
   */
  endpoints(): string[];
  /** Stops accepting, closes the channels accepted here (gracefully), resolves when all is closed. */
  close(): Promise<void>;
}

export type OnChannel = (channel: Channel) => void;

/** What a scheme contributes: the scheme table maps scheme names to these. */
export interface SchemeDriver {
  connect(url: QiUrl, opts: ConnectOptions): Promise<Channel>;
  /** Absent where the runtime cannot accept connections (a web page). */
  listen?(url: QiUrl, opts: ListenOptions, onChannel: OnChannel): Promise<Listener>;
}

/**
 * Schemes `tcps` (TLS) and `tcpsm` (mutual TLS), spec §6.2.
 *
 * Unlike libqi, a tcps client verifies the server certificate by default (chain against `tls.ca`
 * or Node's root CAs, and the host name). Robots with self-signed certificates need either
 * `tls.pinnedSha256` (accept exactly that certificate) or `tls.insecureAcceptAnyCertificate`.
 * tcpsm servers require a client certificate that chains to their `tls.ca`.
 */
import { isIP, type Socket } from "node:net";
import {
  type ConnectionOptions,
  createServer,
  connect as tlsConnect,
  type TLSSocket,
  type TlsOptions,
} from "node:tls";
import { TransportError, tlsError } from "./errors.js";
import type { ConnectOptions, ListenOptions, SchemeDriver } from "./options.js";
import { DEFAULT_ACCEPT_TIMEOUT_MS, establish, serve } from "./socket-driver.js";
import { formatHostPort, formatUrl, type QiUrl } from "./url.js";

function badOptions(message: string): TransportError {
  return new TransportError("ERR_BAD_OPTIONS", message);
}

/** Normalises fingerprints to 64 upper-case hex digits. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw badOptions(`tls.pinnedSha256: ${JSON.stringify(fp)} is not a SHA-256 fingerprint (64 hex digits)`);
  }
  return hex;
}

function colonHex(hex: string): string {
  return hex.replace(/(..)(?!$)/g, "$1:");
}

function clientOptions(
  url: QiUrl,
  opts: ConnectOptions,
  mutual: boolean,
): {
  options: ConnectionOptions;
  pins: string[];
} {
  const t = opts.tls ?? {};
  if (mutual && (t.cert === undefined || t.key === undefined)) {
    throw badOptions(`${formatUrl(url)}: tcpsm needs a client certificate (tls.cert and tls.key)`);
  }
  const pinList =
    t.pinnedSha256 === undefined
      ? []
      : typeof t.pinnedSha256 === "string"
        ? [t.pinnedSha256]
        : t.pinnedSha256;
  const pins = pinList.map(normalizeFingerprint);
  const skipVerification = t.insecureAcceptAnyCertificate === true || pins.length > 0;
  const servername = t.servername ?? (isIP(url.host) ? undefined : url.host);
  const options: ConnectionOptions = {
    host: url.host,
    port: url.port,
    minVersion: t.minVersion ?? "TLSv1.2",
    rejectUnauthorized: !skipVerification,
  };
  if (servername !== undefined) options.servername = servername;
  if (skipVerification) options.checkServerIdentity = () => undefined;
  if (t.ca !== undefined) options.ca = t.ca;
  if (t.cert !== undefined) options.cert = t.cert;
  if (t.key !== undefined) options.key = t.key;
  if (t.passphrase !== undefined) options.passphrase = t.passphrase;
  return { options, pins };
}

/**
 * Node's own handshake timer restarts with every byte the client sends; the listener's accept
 * deadline (socket-driver) does not. Node's stays as a second line, behind the deadline.
 */
export function handshakeTimeoutOf(opts: ListenOptions): number {
  const ms = opts.acceptTimeout ?? opts.tls?.handshakeTimeout ?? DEFAULT_ACCEPT_TIMEOUT_MS;
  return ms > 0 ? 2 * ms : 120_000;
}

function serverOptions(url: QiUrl, opts: ListenOptions, mutual: boolean): TlsOptions {
  const t = opts.tls;
  if (t?.key === undefined || t.cert === undefined) {
    throw badOptions(`${formatUrl(url)}: a ${url.scheme} listener needs tls.key and tls.cert`);
  }
  if (mutual && t.ca === undefined) {
    throw badOptions(`${formatUrl(url)}: a tcpsm listener needs tls.ca to verify client certificates`);
  }
  const options: TlsOptions = {
    key: t.key,
    cert: t.cert,
    minVersion: t.minVersion ?? "TLSv1.2",
    requestCert: mutual,
    rejectUnauthorized: mutual,
    handshakeTimeout: handshakeTimeoutOf(opts),
  };
  if (mutual) options.ca = t.ca;
  if (t.passphrase !== undefined) options.passphrase = t.passphrase;
  return options;
}

function tlsDriver(scheme: "tcps" | "tcpsm"): SchemeDriver {
  const mutual = scheme === "tcpsm";
  return {
    connect(url, opts) {
      let built: ReturnType<typeof clientOptions>;
      try {
        built = clientOptions(url, opts, mutual);
      } catch (e) {
        return Promise.reject(e);
      }
      const { options, pins } = built;
      const where = formatUrl(url);
      return establish({
        url: { ...url, scheme },
        opts,
        secure: true,
        start: () => tlsConnect(options),
        verify:
          pins.length === 0
            ? undefined
            : (socket: Socket) => {
                const fp = (socket as TLSSocket).getPeerCertificate().fingerprint256 ?? "";
                const got = fp.replace(/:/g, "").toUpperCase();
                if (pins.includes(got)) return undefined;
                return new TransportError(
                  "ERR_TLS",
                  `TLS: certificate of ${where} does not match the pinned fingerprint ` +
                    `(got SHA-256 ${fp || "none"}, pinned ${pins.map(colonHex).join(", ")})`,
                );
              },
      });
    },
    listen(url, opts, onChannel) {
      let options: TlsOptions;
      try {
        options = serverOptions(url, opts, mutual);
      } catch (e) {
        return Promise.reject(e);
      }
      const server = createServer(options);
      server.on("tlsClientError", (err, socket) => {
        const peer = socket.remoteAddress
          ? ` from ${formatHostPort(socket.remoteAddress, socket.remotePort ?? 0)}`
          : "";
        socket.destroy();
        const addr = server.address();
        const where =
          addr !== null && typeof addr === "object"
            ? formatUrl({ scheme, host: addr.address, port: addr.port })
            : formatUrl(url);
        const e = tlsError(`${where} (client handshake${peer})`, err);
        try {
          opts.onError?.(e);
        } catch {
          // nowhere to report it
        }
      });
      return serve({ server, url: { ...url, scheme }, opts, onChannel, readyEvent: "secureConnection" });
    },
  };
}

export const tcpsDriver: SchemeDriver = tlsDriver("tcps");
export const tcpsmDriver: SchemeDriver = tlsDriver("tcpsm");

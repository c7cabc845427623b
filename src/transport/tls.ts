/**
 * Schemes `tcps` (TLS) and `tcpsm` (mutual TLS), spec §6.2.
 *
 * What a client trusts (verification by default, pins, insecureAcceptAnyCertificate) is
 * tls-verify.ts's, shared with wss.
 * tcpsm servers require a client certificate that chains to their `tls.ca`.
 */
import type { Socket } from "node:net";
import { createServer, connect as tlsConnect, type TLSSocket, type TlsOptions } from "node:tls";
import { TransportError, tlsError } from "./errors.js";
import type { ConnectOptions, ListenOptions, SchemeDriver } from "./options.js";
import { DEFAULT_ACCEPT_TIMEOUT_MS, establish, serve } from "./socket-driver.js";
import { type ClientTlsPlan, clientTlsPlan, pinMismatch } from "./tls-verify.js";
import { formatHostPort, formatUrl, type QiUrl } from "./url.js";

function badOptions(message: string): TransportError {
  return new TransportError("ERR_BAD_OPTIONS", message);
}

function clientOptions(url: QiUrl, opts: ConnectOptions, mutual: boolean): ClientTlsPlan {
  const t = opts.tls ?? {};
  if (mutual && (t.cert === undefined || t.key === undefined)) {
    throw badOptions(`${formatUrl(url)}: tcpsm needs a client certificate (tls.cert and tls.key)`);
  }
  const plan = clientTlsPlan(url, t);
  plan.options.host = url.host;
  plan.options.port = url.port;
  return plan;
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

function tlsDriver(scheme: "tcps" | "tcpsm"): Required<SchemeDriver> {
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
      return establish({
        url: { ...url, scheme },
        opts,
        secure: true,
        start: () => tlsConnect(options),
        verify:
          pins.length === 0 ? undefined : (socket: Socket) => pinMismatch(socket as TLSSocket, pins, url),
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

export const tcpsDriver: Required<SchemeDriver> = tlsDriver("tcps");
export const tcpsmDriver: Required<SchemeDriver> = tlsDriver("tcpsm");
export { normalizeFingerprint } from "./tls-verify.js";

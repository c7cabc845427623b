/**
 * Verification of the server certificate on the client side, for every TLS transport (tcps,
 * tcpsm, wss): one place decides what is trusted. Unlike libqi, the chain and the host name are
 * verified by default (against `tls.ca` or Node's root CAs); `tls.pinnedSha256` replaces that by
 * "exactly these certificates", `tls.insecureAcceptAnyCertificate` by nothing (encrypted, not
 * authenticated).
 */
import { isIP } from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { TransportError } from "./errors.js";
import type { ClientTlsOptions } from "./options.js";
import { formatUrl, type QiUrl } from "./url.js";

/** Normalises fingerprints to 64 upper-case hex digits. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, "").toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new TransportError(
      "ERR_BAD_OPTIONS",
      `tls.pinnedSha256: ${JSON.stringify(fp)} is not a SHA-256 fingerprint (64 hex digits)`,
    );
  }
  return hex;
}

function colonHex(hex: string): string {
  return hex.replace(/(..)(?!$)/g, "$1:");
}

/** What tls.connect is given, and the pins to check once the handshake is done. */
export interface ClientTlsPlan {
  options: ConnectionOptions;
  pins: string[];
}

/**
 * The tls.connect options of a client (without host and port) and its pins. Throws a
 * TransportError ERR_BAD_OPTIONS on a malformed pin.
 */
export function clientTlsPlan(url: QiUrl, tls: ClientTlsOptions = {}): ClientTlsPlan {
  const pinList =
    tls.pinnedSha256 === undefined
      ? []
      : typeof tls.pinnedSha256 === "string"
        ? [tls.pinnedSha256]
        : tls.pinnedSha256;
  const pins = pinList.map(normalizeFingerprint);
  const skipVerification = tls.insecureAcceptAnyCertificate === true || pins.length > 0;
  const options: ConnectionOptions = {
    minVersion: tls.minVersion ?? "TLSv1.2",
    rejectUnauthorized: !skipVerification,
  };
  const servername = tls.servername ?? (isIP(url.host) ? undefined : url.host);
  if (servername !== undefined) options.servername = servername;
  // The pin replaces CA and host-name checks; it is checked by pinMismatch after the handshake.
  if (skipVerification) options.checkServerIdentity = () => undefined;
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  if (tls.passphrase !== undefined) options.passphrase = tls.passphrase;
  return { options, pins };
}

/** After the handshake: why the peer's certificate is not one of the pins (undefined: it is). */
export function pinMismatch(
  socket: TLSSocket,
  pins: readonly string[],
  url: QiUrl,
): TransportError | undefined {
  const fp = socket.getPeerCertificate().fingerprint256 ?? "";
  if (pins.includes(fp.replace(/:/g, "").toUpperCase())) return undefined;
  return new TransportError(
    "ERR_TLS",
    `TLS: certificate of ${formatUrl(url)} does not match the pinned fingerprint ` +
      `(got SHA-256 ${fp || "none"}, pinned ${pins.map(colonHex).join(", ")})`,
  );
}

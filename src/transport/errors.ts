/**
 * Errors raised by the transport layer. Every error carries a stable, package-unique `code`
 * (`QI_ERR_TRANSPORT_...`) to switch on; the underlying Node error (ECONNREFUSED, a TLS
 * verification failure, ...) is kept as `cause`.
 */
import { brandErrorClass, prefixedCode, QiBaseError } from "../errors/index.js";

export const TRANSPORT_ERROR_REASONS = [
  "BAD_URL", // a URL that does not parse (message says why)
  "UNSUPPORTED_SCHEME", // a scheme with no registered driver (qi:, ws:, ...) or not usable here
  "BAD_OPTIONS", // inconsistent or missing options (e.g. tcpsm without a client certificate)
  "CONNECT", // the TCP connection could not be established (refused, unreachable, DNS)
  "TLS", // TLS handshake or certificate verification failed, or a TLS alert closed the link
  "TIMEOUT", // connect (TCP + TLS handshake) did not finish in time
  "ABORTED", // connect aborted through its AbortSignal
  "LISTEN", // a listener could not bind (address in use, not available, ...)
  "CLOSED", // the channel is closed (locally, by the peer, or reset)
  "SOCKET", // any other I/O error on an established connection
] as const;
type TransportErrorReason = (typeof TRANSPORT_ERROR_REASONS)[number];
/** The code a TransportError carries. */
export type TransportErrorCode = `QI_ERR_TRANSPORT_${TransportErrorReason}`;
/** The short spelling accepted by the constructor and `isTransportError` (`ERR_CLOSED`). */
export type TransportErrorLocalCode = `ERR_${TransportErrorReason}`;

export class TransportError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.TransportError");
  static readonly codes: readonly TransportErrorCode[] = TRANSPORT_ERROR_REASONS.map(
    (r) => `QI_ERR_TRANSPORT_${r}` as const,
  );
  declare readonly code: TransportErrorCode;

  constructor(
    code: TransportErrorCode | TransportErrorLocalCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(prefixedCode<TransportErrorCode>("TRANSPORT_", code), message, options);
    this.name = "TransportError";
  }
}
brandErrorClass(TransportError);

export function isTransportError(
  e: unknown,
  code?: TransportErrorCode | TransportErrorLocalCode,
): e is TransportError {
  return TransportError.is(e, code === undefined ? undefined : prefixedCode("TRANSPORT_", code));
}

/** Normalises anything thrown into an Error. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The `code` property of a Node system/OpenSSL error, if any. */
export function nodeErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const TLS_VERIFY_HINTS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server certificate is not signed by a trusted CA",
  UNABLE_TO_GET_ISSUER_CERT: "the issuer of the server certificate is not trusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the issuer of the server certificate is not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the certificate chain ends in an untrusted self-signed CA",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server certificate is self-signed and not trusted",
  CERT_HAS_EXPIRED: "the server certificate has expired",
  CERT_NOT_YET_VALID: "the server certificate is not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server certificate does not name this host",
};

/** Is this Node error about TLS (handshake, alert, certificate)? */
export function isTlsErrorCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return (
    code in TLS_VERIFY_HINTS ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code.startsWith("CERT_") ||
    code.includes("_CERT")
  );
}

const TLS_ALERT_HINTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "the server requires a client certificate (tcpsm)",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "the server refused the handshake (client certificate or cipher)",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the peer does not trust the CA of the certificate presented to it",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the peer rejected the certificate presented to it",
  ERR_SSL_WRONG_VERSION_NUMBER: "the peer does not speak TLS (plain tcp endpoint?)",
};

/** The readable part of an OpenSSL error ("tlsv13 alert certificate required"), else the message. */
function tlsDetail(cause: unknown): string {
  const reason = (cause as { reason?: unknown } | null)?.reason;
  if (typeof reason === "string" && reason !== "") return reason;
  return asError(cause).message.trim();
}

/** A TransportError ERR_TLS with an explanation and a hint for certificate failures. */
export function tlsError(where: string, cause: unknown): TransportError {
  const code = nodeErrorCode(cause);
  const detail = tlsDetail(cause);
  const suffix = code && !detail.includes(code) ? ` (${code})` : "";
  const verify = code !== undefined ? TLS_VERIFY_HINTS[code] : undefined;
  const alert = code !== undefined ? TLS_ALERT_HINTS[code] : undefined;
  let text: string;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    text =
      `TLS: ${verify} (${detail}) on ${where}; connect with a name the certificate lists, ` +
      "set tls.servername, or pin the certificate with tls.pinnedSha256";
  } else if (verify) {
    text =
      `TLS: ${verify} (${code}: ${detail}) on ${where}; pass tls.ca with the issuing CA, ` +
      "tls.pinnedSha256 with the certificate fingerprint, or tls.insecureAcceptAnyCertificate " +
      "for a robot with a self-signed certificate";
  } else if (alert) {
    text = `TLS: ${alert} on ${where} (${detail}${code ? `; ${code}` : ""})`;
  } else {
    text = `TLS failure on ${where}: ${detail}${suffix}`;
  }
  return new TransportError("ERR_TLS", text, { cause });
}

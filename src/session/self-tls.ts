/**
 * The TLS a Service Directory uses to reach itself (listenStandalone connects to its own
 * endpoint as a client). It must not depend on the machine's trust store: a robot's directory
 * uses a private CA, or a self-signed certificate, and its certificate may name the robot
 * rather than 127.0.0.1. The directory knows exactly which certificate it serves, so its own
 * connection pins that one (SHA-256 of the leaf), which is stricter than any CA check.
 * Web Crypto and atob only: this file is also in the browser bundle.
 */
import type { ClientTlsOptions, PemInput, ServerTlsOptions } from "../transport/index.js";

/** The first certificate of a PEM input as DER bytes, if there is one. */
export function firstCertificateDer(pem: PemInput): Uint8Array<ArrayBuffer> | undefined {
  const first = Array.isArray(pem) ? pem[0] : pem;
  if (first === undefined) return undefined;
  const text = typeof first === "string" ? first : new TextDecoder().decode(first);
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (!m) return undefined;
  const binary = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Client TLS options for the self-connection: the caller's, pinned to our own certificate. */
export async function selfClientTls(
  client: ClientTlsOptions | undefined,
  server: ServerTlsOptions | undefined,
): Promise<ClientTlsOptions | undefined> {
  const der = server && firstCertificateDer(server.cert);
  if (!der) return client;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { ...client, pinnedSha256: hex };
}

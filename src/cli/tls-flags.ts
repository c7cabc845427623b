/**
 * TLS flags of the commands that connect out (tcps, tcpsm): which server to trust (`--ca FILE`,
 * `--pin SHA256`, or `--insecure`) and the client certificate of tcpsm (`--cert FILE --key FILE`).
 * A prefix gives the same set under other names (`qi gateway --attach-ca …`).
 */
import { readFileSync } from "node:fs";
import { Option } from "commander";
import { type ClientTlsOptions, normalizeFingerprint } from "../transport/index.js";
import { usageError } from "./errors.js";
import { readSecretFile, type Warn, warnOnStderr } from "./token-sources.js";

export interface TlsFlags {
  ca?: string;
  pin?: string[];
  cert?: string;
  key?: string;
  insecure?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The options, named `--ca` … or `--<prefix>-ca` …; `what` says which connection they are for. */
export function tlsFlagOptions(prefix = "", what = "the server"): Option[] {
  const p = prefix ? `${prefix}-` : "";
  return [
    new Option(
      `--${p}ca <file>`,
      `PEM CA certificate(s) that ${what}'s certificate must chain to (tcps, tcpsm)`,
    ),
    new Option(
      `--${p}pin <sha256>`,
      `accept exactly the certificate with this SHA-256 fingerprint (repeatable; replaces CA and host checks)`,
    ).argParser(collect),
    new Option(`--${p}cert <file>`, "PEM client certificate (tcpsm; with --key)"),
    new Option(`--${p}key <file>`, "PEM private key of the client certificate (should be mode 600)"),
  ];
}

/** ClientTlsOptions from the flags; undefined when none is set. Bad files and pins are usage errors. */
export function clientTlsFromFlags(
  flags: TlsFlags,
  prefix = "",
  warn: Warn = warnOnStderr,
): ClientTlsOptions | undefined {
  const p = prefix ? `--${prefix}-` : "--";
  const out: ClientTlsOptions = {};
  const pins = flags.pin ?? [];
  if (flags.insecure && (flags.ca !== undefined || pins.length > 0))
    throw usageError(
      `${p}insecure accepts any certificate: it cannot go with ${p}ca or ${p}pin`,
      `dropping ${p}insecure`,
    );
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw usageError(`${p}cert and ${p}key go together`, `both ${p}cert FILE and ${p}key FILE`);
  if (flags.ca !== undefined) out.ca = readPem(flags.ca, `${p}ca`);
  if (pins.length > 0) {
    try {
      out.pinnedSha256 = pins.map(normalizeFingerprint);
    } catch {
      throw usageError(
        `${p}pin ${JSON.stringify(pins.find((x) => !isFingerprint(x)))} is not a SHA-256 fingerprint`,
        "64 hex digits, colons allowed: `openssl x509 -noout -fingerprint -sha256 -in cert.pem`",
      );
    }
  }
  if (flags.cert !== undefined && flags.key !== undefined) {
    out.cert = readPem(flags.cert, `${p}cert`);
    out.key = readPem(flags.key, `${p}key`, warn);
  }
  if (flags.insecure) out.insecureAcceptAnyCertificate = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

function isFingerprint(text: string): boolean {
  return /^[0-9A-F]{64}$/.test(text.replace(/[:\s]/g, "").toUpperCase());
}

/** A PEM file; a private key (`warn` given) is checked for group/world read access. */
function readPem(file: string, flag: string, warn?: Warn): string {
  let text: string;
  try {
    text = warn ? readSecretFile(file, warn) : readFileSync(file, "utf8");
  } catch (e) {
    throw usageError(`cannot read ${flag} ${file}: ${(e as Error).message}`, "a PEM file");
  }
  if (!text.includes("-----BEGIN ")) throw usageError(`${flag} ${file} is not a PEM file`, "a PEM file");
  return text;
}

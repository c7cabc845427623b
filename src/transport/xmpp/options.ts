/**
 * What an XMPP entry (listen) and an XMPP client (connect) are given, with the defaults. The
 * password never comes from a URL or a command line: the gateway reads it from its config file,
 * the CLI from an environment variable or a credentials file.
 */
import { TransportError } from "../errors.js";

/** TLS toward the XMPP server (STARTTLS on xmpp://, direct TLS on xmpps://). TLS is always required. */
export interface XmppTlsOptions {
  /** Trusted CA certificate(s) for the server's certificate (default Node's root CAs). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key (SASL EXTERNAL is not used; some servers ask for one at TLS level). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Accept any server certificate (encrypted, not authenticated). Off by default; a warning. */
  insecureAcceptAnyCertificate?: boolean;
}

/** Sizes shared by both ends of an in-band bytestream. */
export interface XmppStreamLimits {
  /**
   * Bytes of qi stream per stanza before base64 (IBB block-size, at most 65 535). Default 8 192
   * (10 924 base64 characters plus ~200 of XML, far inside any server's stanza limit; Prosody's
   * c2s default is 256 KiB): @xmpp/client's XML parser slows down sharply on text nodes that
   * span many socket reads (3 MB/s for 32 KiB blocks against 50 MB/s for 8 KiB, measured).
   * The entry refuses blocks larger than its own setting.
   */
  blockSize?: number;
  /** Data stanzas sent and not yet acknowledged (the sender waits beyond). Default 16 (128 KiB). */
  window?: number;
  /** ms a data stanza may stay unacknowledged before the channel closes (a dead peer). Default 60 000. */
  ackTimeoutMs?: number;
}

export interface XmppAccountOptions extends XmppStreamLimits {
  /** Password of the account (from a config file or the environment, never a URL). */
  password: string;
  /**
   * Where the XMPP server is: `xmpp://host:port` (STARTTLS) or `xmpps://host:port` (direct TLS).
   * Default: the URL's host and port (5222), STARTTLS.
   */
  service?: string;
  tls?: XmppTlsOptions;
  /** ms to log in (TCP, TLS, SASL, bind). Default 15 000. */
  loginTimeoutMs?: number;
}

/** A qi client reaching a gateway through XMPP: its own account. */
export interface XmppConnectOptions extends XmppAccountOptions {
  /** The client's bare JID, `me@example.org` (a random resource is bound per channel). */
  jid: string;
}

/** The gateway's XMPP entry: the robot's account, who may open a session, and the caps. */
export interface XmppListenOptions extends XmppAccountOptions {
  /** Bare JIDs allowed to open a qi session (case-insensitive). Nobody else gets a qi byte in. */
  allow: string[];
  /** The resource the entry binds (clients address `robot@domain/<resource>`). Default "qi". */
  resource?: string;
  /** Channels open at once from one bare JID. Default 4. */
  maxChannelsPerJid?: number;
  /** Channels open at once in total. Default 64. */
  maxChannels?: number;
  /** Reconnect backoff when the server goes away: first and largest delay (ms). Default 500 / 30 000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Told once per refused open or lost server connection (the gateway logs it). */
  onEvent?: (event: XmppEntryEvent) => void;
}

export type XmppEntryEvent =
  | { kind: "online"; jid: string }
  | { kind: "offline"; reason: string; retryInMs: number }
  | { kind: "refused"; from: string; why: string };

export const DEFAULT_XMPP_RESOURCE = "qi";
export const DEFAULT_XMPP_PORT = 5222;
/** IBB's block-size attribute is an unsigned short (XEP-0047 §2.1). */
export const MAX_BLOCK_SIZE = 65_535;

export interface ResolvedStreamLimits {
  blockSize: number;
  window: number;
  ackTimeoutMs: number;
}

function positiveInt(
  name: string,
  v: number | undefined,
  dflt: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1 || v > max) {
    throw new TransportError("ERR_BAD_OPTIONS", `xmpp.${name} must be an integer in 1..${max} (got ${v})`);
  }
  return v;
}

export function resolveStreamLimits(o: XmppStreamLimits): ResolvedStreamLimits {
  return {
    blockSize: positiveInt("blockSize", o.blockSize, 8_192, MAX_BLOCK_SIZE),
    window: positiveInt("window", o.window, 16, 1024),
    ackTimeoutMs: positiveInt("ackTimeoutMs", o.ackTimeoutMs, 60_000),
  };
}

export function resolveCaps(o: XmppListenOptions): { perJid: number; total: number } {
  return {
    perJid: positiveInt("maxChannelsPerJid", o.maxChannelsPerJid, 4),
    total: positiveInt("maxChannels", o.maxChannels, 64),
  };
}

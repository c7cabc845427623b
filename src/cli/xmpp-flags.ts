/**
 * The flags of a client reaching a robot through XMPP (`--url xmpp://robot@example.org`): its
 * own account (`--xmpp-jid`, QI_XMPP_JID), the password from QI_XMPP_PASSWORD or
 * `--xmpp-password-file` (never a flag of its own: argv is public), and the server when it is
 * not the JID's domain (`--xmpp-service`). The server's certificate is checked against `--ca`
 * (or Node's roots); `--insecure` accepts any.
 */
import { Option } from "commander";
import type { SessionOptions } from "../session/index.js";
import { type ClientTlsOptions, xmppTransport } from "../transport/index.js";
import { usageError } from "./errors.js";
import { readTokenFile } from "./token-sources.js";

export interface XmppFlags {
  url?: string;
  xmppJid?: string;
  xmppPasswordFile?: string;
  xmppService?: string;
}

export function xmppFlagOptions(): Option[] {
  return [
    new Option("--xmpp-jid <jid>", "your XMPP account, for --url xmpp://robot@domain").env("QI_XMPP_JID"),
    new Option("--xmpp-password-file <file>", "file holding the XMPP password (else QI_XMPP_PASSWORD)"),
    new Option("--xmpp-service <url>", "XMPP server when not the JID's domain: xmpp://host:port").env(
      "QI_XMPP_SERVICE",
    ),
  ];
}

/** The session transport for an xmpp:// --url (undefined for other URLs). */
export function xmppSessionOptions(
  flags: XmppFlags,
  tls: ClientTlsOptions | undefined,
): Partial<SessionOptions> {
  if (!flags.url || !/^xmpp:\/\//i.test(flags.url)) return {};
  if (!flags.xmppJid) {
    throw usageError(
      "an xmpp:// URL needs your own XMPP account",
      "--xmpp-jid me@example.org (or QI_XMPP_JID)",
    );
  }
  const password = flags.xmppPasswordFile
    ? readTokenFile(flags.xmppPasswordFile)
    : process.env.QI_XMPP_PASSWORD;
  if (!password) {
    throw usageError(
      `no XMPP password for ${flags.xmppJid}`,
      "QI_XMPP_PASSWORD=… or --xmpp-password-file FILE",
    );
  }
  return {
    transport: xmppTransport({
      jid: flags.xmppJid,
      password,
      service: flags.xmppService,
      tls: { ca: tls?.ca, insecureAcceptAnyCertificate: tls?.insecureAcceptAnyCertificate },
    }),
  };
}

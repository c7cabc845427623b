/**
 * A Session's transport that carries `xmpp://` URLs with the given account and every other
 * scheme as usual: `new Session({ transport: xmppTransport({ jid, password }) })`. Kept apart
 * from the rest of xmpp/ so that importing it does not load @xmpp/client.
 */
import { schemeTransport, type TransportFactory } from "../factory.js";
import type { XmppConnectOptions } from "./options.js";

export function xmppTransport(
  account: XmppConnectOptions,
  base: TransportFactory = schemeTransport,
): TransportFactory {
  const isXmpp = (url: string) => /^xmpp:\/\//i.test(url.trim());
  return {
    connect: (url, opts) => base.connect(url, isXmpp(url) ? { ...opts, xmpp: account } : opts),
    listen: base.listen?.bind(base),
    canConnect: (url) => base.canConnect(url),
    canListen: (url) => !isXmpp(url) && base.canListen(url),
  };
}

/** transport/xmpp/: qi channels over XMPP in-band bytestreams (Node only: the browser bundle never loads it). */
export { connectXmpp } from "./connector.js";
export { listenXmpp, XmppEntry } from "./entry.js";
export {
  DEFAULT_XMPP_RESOURCE,
  type XmppConnectOptions,
  type XmppEntryEvent,
  type XmppListenOptions,
  type XmppStreamLimits,
  type XmppTlsOptions,
} from "./options.js";
export { XmppChannel } from "./xmpp-channel.js";

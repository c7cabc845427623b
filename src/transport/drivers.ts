/**
 * The drivers of the Node runtime: tcp, tcps, tcpsm (sockets), ws, wss (the `ws` package), xmpp.
 * The browser bundle replaces this file by drivers.browser.ts (src/web/build.ts).
 */
import type { SchemeDriver } from "./options.js";
import { tcpDriver } from "./tcp.js";
import { tcpsDriver, tcpsmDriver } from "./tls.js";
import type { QiScheme } from "./url.js";
import { wsDriver, wssDriver } from "./ws.js";

/** xmpp: loaded on first use, so @xmpp/client costs nothing to a process that never uses it. */
const xmppDriver: SchemeDriver = {
  connect: async (url, opts) => (await import("./xmpp/index.js")).connectXmpp(url, opts),
  listen: async (url, opts, onChannel) => (await import("./xmpp/index.js")).listenXmpp(url, opts, onChannel),
};

export const runtimeDrivers: ReadonlyArray<[QiScheme, SchemeDriver]> = [
  ["tcp", tcpDriver],
  ["tcps", tcpsDriver],
  ["tcpsm", tcpsmDriver],
  ["ws", wsDriver],
  ["wss", wssDriver],
  ["xmpp", xmppDriver],
];

/**
 * The drivers of the Node runtime: tcp, tcps, tcpsm (sockets) and ws, wss (the `ws` package).
 * The browser bundle replaces this file by drivers.browser.ts (src/web/build.ts).
 */
import type { SchemeDriver } from "./options.js";
import { tcpDriver } from "./tcp.js";
import { tcpsDriver, tcpsmDriver } from "./tls.js";
import type { QiScheme } from "./url.js";
import { wsDriver, wssDriver } from "./ws.js";

export const runtimeDrivers: ReadonlyArray<[QiScheme, SchemeDriver]> = [
  ["tcp", tcpDriver],
  ["tcps", tcpsDriver],
  ["tcpsm", tcpsmDriver],
  ["ws", wsDriver],
  ["wss", wssDriver],
];

/// <reference lib="dom" />
/**
 * The drivers of the browser bundle, in place of drivers.ts: ws and wss over the browser's
 * WebSocket. A page cannot accept connections: no listen (it hosts services through its
 * connection to a gateway).
 */
import { BrowserWsChannel } from "./browser-ws-channel.js";
import type { SchemeDriver } from "./options.js";
import { formatHostPort, type QiScheme } from "./url.js";

function browserWsDriver(scheme: "ws" | "wss"): SchemeDriver {
  return {
    connect: (url, opts) =>
      BrowserWsChannel.open(`${scheme}://${formatHostPort(url.host, url.port)}${url.path ?? "/"}`, opts),
  };
}

export const runtimeDrivers: ReadonlyArray<[QiScheme, SchemeDriver]> = [
  ["ws", browserWsDriver("ws")],
  ["wss", browserWsDriver("wss")],
];

/**
 * The transport a Session is given (as nats.js's TransportFactory): where its channels come
 * from. The default is the scheme registry (schemes.ts), filled per runtime by drivers.ts
 * (Node: tcp, tcps, tcpsm, ws, wss) or drivers.browser.ts (the browser's WebSocket); a test or
 * an embedder passes its own, e.g. over memoryChannelPair.
 */
import type { Channel } from "./channel.js";
import { connect } from "./connect.js";
import { listen } from "./listen.js";
import type { ConnectOptions, Listener, ListenOptions, OnChannel, SchemeDriver } from "./options.js";
import { schemeDriver } from "./schemes.js";
import { parseUrl } from "./url.js";

export interface TransportFactory {
  /** Opens a channel to `url`; rejects with a TransportError. */
  connect(url: string, opts: ConnectOptions): Promise<Channel>;
  /** Accepts channels on `url` (absent: this transport cannot listen, e.g. in a browser). */
  listen?(url: string, opts: ListenOptions, onChannel: OnChannel): Promise<Listener>;
  /** Whether connect() can reach this endpoint at all (endpoint choice skips the others). */
  canConnect(url: string): boolean;
  /** Whether listen() can accept on such a URL (a page cannot: it hosts through its connection). */
  canListen(url: string): boolean;
}

function driverOf(url: string): SchemeDriver | undefined {
  try {
    const u = parseUrl(url);
    return u.scheme === "qi" ? undefined : schemeDriver(u.scheme);
  } catch {
    return undefined;
  }
}

/** The scheme registry as a TransportFactory: every registered scheme, nothing else. */
export const schemeTransport: TransportFactory = {
  connect: (url, opts) => connect(url, opts),
  listen: (url, opts, onChannel) => listen(url, opts, onChannel),
  canConnect: (url) => driverOf(url) !== undefined,
  canListen: (url) => driverOf(url)?.listen !== undefined,
};

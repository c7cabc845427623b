/**
 * The runtime-neutral part of transport's face, shared by index.ts (Node) and index.browser.ts
 * (the browser bundle): URLs, the Channel contract, the scheme registry and the transport
 * factory, connect/listen, the in-memory channel pair, the channel over a browser WebSocket
 * (usable wherever a WebSocket global exists). Nothing here loads a Node module.
 */
export { type BrowserChannelOptions, BrowserWsChannel } from "./browser-ws-channel.js";
export type { Channel, ChannelOptions, CloseHandler, MessageHandler } from "./channel.js";
export { ChannelBase, type ChannelIdentity, type ChannelLimits } from "./channel-base.js";
export { connect } from "./connect.js";
export { isTransportError, TransportError, type TransportErrorCode } from "./errors.js";
export { schemeTransport, type TransportFactory } from "./factory.js";
export { isIP, isIPv4, isIPv6 } from "./ip.js";
export { listen } from "./listen.js";
export { MemoryChannel, type MemoryChannelOptions, memoryChannelPair } from "./memory-channel.js";
export type {
  ClientTlsOptions,
  ConnectOptions,
  Listener,
  ListenOptions,
  OnChannel,
  PemInput,
  SchemeDriver,
  ServerTlsOptions,
  WsListenOptions,
  WsUpgradeRoute,
} from "./options.js";
export { registeredSchemes, registerScheme, schemeDriver, unregisterScheme } from "./schemes.js";
export {
  CONNECT_DEFAULTS,
  formatUrl,
  isLoopbackHost,
  isLoopbackUrl,
  LISTEN_DEFAULTS,
  parseUrl,
  QI_SCHEMES,
  type QiScheme,
  type QiUrl,
  sortEndpoints,
  type UrlDefaults,
} from "./url.js";
export { WsCloseCode } from "./ws-frame.js";

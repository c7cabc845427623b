/** transport/: URLs, channels of qi messages with backpressure, connect and listen per registered scheme. */
export {
  type Channel,
  type ChannelOptions,
  type CloseHandler,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_KEEPALIVE_MS,
  type MessageHandler,
  SocketChannel,
  type SocketScheme,
} from "./channel.js";
export { connect } from "./connect.js";
export { isTransportError, TransportError, type TransportErrorCode } from "./errors.js";
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
} from "./options.js";
export { registeredSchemes, registerScheme, schemeDriver, unregisterScheme } from "./schemes.js";
export { DEFAULT_CONNECT_TIMEOUT_MS } from "./socket-driver.js";
export { normalizeFingerprint } from "./tls.js";
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
export { WsChannel, type WsScheme, wsDriver, wssDriver } from "./ws.js";
export { WsCloseCode } from "./ws-frame.js";

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { Admission, type AdmissionCap, type AdmissionLimits } from "./admission.js";
export { plainAddress } from "./channel-base.js";

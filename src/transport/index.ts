/** transport/: URLs, channels of qi messages with backpressure, connect and listen per registered scheme. */
/*
 * This is the Node face (sockets, TLS, the `ws` package); the browser bundle uses
 * index.browser.ts, which shares neutral.ts with it.
 */
export * from "./neutral.js";
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_KEEPALIVE_MS,
  SocketChannel,
  type SocketScheme,
} from "./channel.js";
export { DEFAULT_CONNECT_TIMEOUT_MS } from "./socket-driver.js";
export { normalizeFingerprint } from "./tls-verify.js";
export { WsChannel, type WsScheme, wsDriver, wssDriver } from "./ws.js";

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { Admission, type AdmissionCap, type AdmissionLimits } from "./admission.js";
export { plainAddress } from "./channel-base.js";
export type { XmppConnectOptions, XmppEntryEvent, XmppListenOptions } from "./xmpp/options.js";
export { xmppTransport } from "./xmpp/session-transport.js";

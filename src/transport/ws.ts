/**
 * Schemes `ws` and `wss`: qi messages over WebSocket (RFC 6455), for browsers and for clients
 * behind HTTP proxies. Built on the `ws` package.
 *
 * Framing (ws-frame.ts): one binary WebSocket message per qi message, 28-byte header + payload.
 * A text message gets close code 1008, a binary message that is not exactly one well-formed qi
 * message (short, trailing bytes, bad magic/version/type) gets 1007, one over maxPayload 1009;
 * the close frame carries the reason and the channel closes with the matching error. No
 * compression (permessage-deflate is off: qi payloads are mostly binary, and compressing
 * attacker-chosen data next to secrets is how CRIME/BREACH work).
 *
 * Listening: an HTTP(S) server that upgrades requests on any path to qi-over-WebSocket (so the
 * endpoint `ws://host:port` works, as does `ws://host:port/qi`). Other HTTP requests go to
 * `ListenOptions.ws.httpHandler` (404 without one). Browsers send an Origin header and are
 * refused with 403 unless their origin is in `ws.allowedOrigins`, or is the listener itself
 * (a page this very server served: Origin equal to `http(s)://<Host header>` where the host is
 * an IP address, `localhost` or the listening host — not any name, which would let a DNS
 * rebinding page in). Clients without Origin (Node, libqi, curl) are accepted: they are not
 * browsers, whose ambient authority the check protects. Authentication is the qi handshake.
 */
import type { SchemeDriver } from "./options.js";
import type { WsScheme } from "./ws-channel.js";
import { wsConnect } from "./ws-connect.js";
import { wsListen } from "./ws-listen.js";

export { WsChannel, type WsScheme } from "./ws-channel.js";
export { wsConnect } from "./ws-connect.js";
export { originRefusal, wsListen } from "./ws-listen.js";

function wsDriverFor(scheme: WsScheme): Required<SchemeDriver> {
  return {
    connect: (url, opts) => wsConnect({ ...url, scheme }, opts),
    listen: (url, opts, onChannel) => wsListen({ ...url, scheme }, opts, onChannel),
  };
}

export const wsDriver: Required<SchemeDriver> = wsDriverFor("ws");
export const wssDriver: Required<SchemeDriver> = wsDriverFor("wss");

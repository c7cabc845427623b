/**
 * `qimessaging/browser`: the qi client for web pages, over WebSocket (ws:// or wss://, one
 * binary frame per qi message). Same object API as on Node:
 *
 *   import { connect } from "qimessaging/browser";        // or "/qi.js" from a gateway
 *   const session = await connect("wss://robot.local:9443/qi", { user: "me", token: "…" });
 *   const tts = await session.service("ALTextToSpeech");
 *   await tts.call("say", "hello");
 *   await (await session.service("ALVideoDevice")).signal("image").connect((w, h, seq, raw) => …);
 *
 * Raw values (`r`) arrive as Raw, whose `bytes` is a Uint8Array view of the received message.
 */
export { type AuthData, type ClientAuthenticator, UserTokenAuthenticator } from "../../connection/auth.js";
export { Connection } from "../../connection/connection.js";
export { isQiError, QiError } from "../../connection/errors.js";
export { QiObject } from "../../object/index.js";
export { RemoteObject, RemoteProperty, RemoteSignal } from "../../object/index.js";
export type { ServiceInfo } from "../../session/index.js";
export { TransportError } from "../../transport/errors.js";
export type { MetaMethod, MetaObject, MetaProperty, MetaSignal } from "../../wire/index.js";
export { parseSignature, printSignature } from "../../wire/index.js";
export { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "../../wire/index.js";
export { type BrowserChannelOptions, BrowserWsChannel } from "./browser-ws-channel.js";
export {
  type BrowserSessionOptions,
  connect,
  defaultUrl,
  Session,
  type SessionEvent,
} from "./browser-session.js";

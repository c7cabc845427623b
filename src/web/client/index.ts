/**
 * `qimessaging/browser`: the qi client for web pages, over WebSocket (ws:// or wss://, one
 * binary frame per qi message). The very Session of Node (src/session), bundled with the
 * browser's transport (src/transport/index.browser.ts registers ws/wss over the page's
 * WebSocket); same object API as on Node:
 *
 *   import { connect } from "qimessaging/browser";        // or "/qi.js" from a gateway
 *   const session = await connect("wss://robot.local:9443/qi", { user: "me", token: "…" });
 *   const tts = await session.service("ALTextToSpeech");
 *   await tts.call("say", "hello");
 *   await (await session.service("ALVideoDevice")).signal("image").connect((w, h, seq, raw) => …);
 *
 * Raw values (`r`) arrive as Raw, whose `bytes` is a Uint8Array view of the received message.
 */
import { pageEndpoint } from "../../session/options.js";
import { Session, type SessionEvents, type SessionOptions } from "../../session/session.js";

export { type AuthData, type ClientAuthenticator, UserTokenAuthenticator } from "../../connection/auth.js";
export { Connection } from "../../connection/connection.js";
export { isQiError, QiError } from "../../connection/errors.js";
export { QiObject } from "../../object/index.js";
export { RemoteObject, RemoteProperty, RemoteSignal } from "../../object/index.js";
export type { ServiceInfo } from "../../session/index.js";
export { Session, type SessionEvents, type SessionOptions } from "../../session/session.js";
export { type BrowserChannelOptions, BrowserWsChannel, TransportError } from "../../transport/index.js";
export {
  argsFromJson,
  ConversionError,
  fromJson,
  jsonToDynamic,
  parseJson,
  shortFloat32,
  tidyFloats,
  toJson,
} from "../../wire/index.js";
export type { MetaMethod, MetaObject, MetaProperty, MetaSignal } from "../../wire/index.js";
export { parseSignature, printSignature } from "../../wire/index.js";
export { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "../../wire/index.js";

/** The options of connect() (the Session's: `user` and `token`, `timeoutMs`, …). */
export type BrowserSessionOptions = SessionOptions;
/** The events of Session.on / off. */
export type SessionEvent = keyof SessionEvents;

/** The page's own qi endpoint: `ws(s)://<host of the page>/qi` (a gateway serving the page). */
export function defaultUrl(): string {
  return pageEndpoint() ?? "ws://127.0.0.1:9559/qi";
}

/** Connects a new session: `await connect("wss://robot:9443/qi", { user, token })`. */
export async function connect(url: string = defaultUrl(), options: SessionOptions = {}): Promise<Session> {
  const session = new Session(options);
  await session.connect(url);
  return session;
}

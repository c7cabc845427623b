/**
 * One XMPP login (an @xmpp/client entity) with TLS required and verified our way: STARTTLS on
 * `xmpp://` services, direct TLS on `xmpps://`, the server's certificate checked against
 * `tls.ca` (or Node's roots) and the domain unless `insecureAcceptAnyCertificate`. The library's
 * own STARTTLS step takes no trust options, so this module gives the entity a plain socket the
 * library does not recognise as upgradable and performs the upgrade itself; SASL refuses to run
 * on a stream that is not encrypted, whatever the server offers.
 */
import { pbkdf2Sync } from "node:crypto";
import { EventEmitter } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { client, type XmlElement, type XmppClient, type XmppTransport, xml } from "@xmpp/client";
import { asError, isTlsErrorCode, TransportError, tlsError } from "../errors.js";
import { fullOf, type Jid } from "./jid.js";
import type { XmppAccountOptions } from "./options.js";

const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const DEFAULT_LOGIN_TIMEOUT_MS = 15_000;

/** A TCP socket the library does not take for a net.Socket, so its own STARTTLS step skips it. */
class PlainSocket extends EventEmitter {
  secure = false;
  inner: Socket | undefined;

  connect(params: { host: string; port: number }): void {
    const s = netConnect({ host: params.host, port: params.port });
    this.inner = s;
    s.on("connect", () => this.emit("connect"));
    s.on("data", (d: Buffer) => this.emit("data", d));
    s.on("close", (hadError: boolean) => this.emit("close", hadError));
    s.on("error", (e: Error) => this.emit("error", e));
  }

  write(data: string, cb?: (err?: Error | null) => void): void {
    this.inner?.write(data, cb);
  }

  end(): void {
    this.inner?.end();
  }

  destroy(): void {
    this.inner?.destroy();
  }
}

function tlsOptionsOf(domain: string, o: XmppAccountOptions): ConnectionOptions {
  const t = o.tls ?? {};
  const insecure = t.insecureAcceptAnyCertificate === true;
  const options: ConnectionOptions = {
    servername: domain,
    rejectUnauthorized: !insecure,
    minVersion: "TLSv1.2",
  };
  if (insecure) options.checkServerIdentity = () => undefined;
  if (t.ca !== undefined) options.ca = t.ca;
  if (t.cert !== undefined) options.cert = t.cert;
  if (t.key !== undefined) options.key = t.key;
  return options;
}

/** `xmpp://host:port` or `xmpps://host:port`, checked. */
export function serviceOf(host: string, port: number, o: XmppAccountOptions): string {
  const service = o.service ?? `xmpp://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (!/^xmpps?:\/\/[^/\s]+$/.test(service)) {
    throw new TransportError(
      "ERR_BAD_OPTIONS",
      `xmpp.service ${JSON.stringify(service)}: expected xmpp://host:port or xmpps://host:port`,
    );
  }
  return service;
}

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
/** Above this, the SCRAM key is left to the library (slow, but a hostile count cannot block us). */
const MAX_NATIVE_SCRAM_ITERATIONS = 100_000;

interface ScramCredentials {
  username: string;
  password: string;
  salt?: Uint8Array;
  saltedPassword?: Uint8Array;
}

/**
 * The SCRAM-SHA-1 library derives the salted password with one WebCrypto HMAC per iteration
 * (3 s for Prosody's 10 000 on a loaded machine); it takes a precomputed one for a known salt.
 * Our listener sees the server-first message before the library does and derives it natively.
 */
function saltFromChallenge(el: XmlElement, creds: ScramCredentials): void {
  if (el.name !== "challenge" || el.attrs.xmlns !== NS_SASL) return;
  const text = Buffer.from(el.text(), "base64").toString("utf8");
  const salt = /(?:^|,)s=([^,]+)/.exec(text)?.[1];
  const iterations = Number(/(?:^|,)i=(\d+)/.exec(text)?.[1]);
  if (salt === undefined || !(iterations >= 1 && iterations <= MAX_NATIVE_SCRAM_ITERATIONS)) return;
  const saltBytes = Buffer.from(salt, "base64");
  creds.salt = new Uint8Array(saltBytes);
  creds.saltedPassword = new Uint8Array(pbkdf2Sync(creds.password, saltBytes, iterations, 20, "sha1"));
}

/** The library's transport class that takes such a service URL (the list also holds WebSocket). */
function transportFor(transports: XmppTransport[], service: string): XmppTransport {
  const found = transports.find((T) => {
    try {
      return T.prototype.socketParameters(service) !== undefined;
    } catch {
      return false;
    }
  });
  if (found === undefined)
    throw new TransportError("ERR_UNSUPPORTED_SCHEME", `@xmpp/client has no transport for ${service}`);
  return found;
}

/**
 * A client entity for `account` (its resource is bound as given), not started. Its `error`
 * events are handed to `onError` (an EventEmitter error without a listener would end the process).
 */
export function createXmppClient(
  account: Jid,
  service: string,
  o: XmppAccountOptions,
  onError: (e: Error) => void,
): XmppClient {
  const tlsOptions = tlsOptionsOf(account.domain, o);
  const password = o.password;
  const creds: ScramCredentials = { username: account.local, password };
  const entity = client({
    service,
    domain: account.domain,
    resource: account.resource,
    credentials: async (authenticate, mechanisms, _fast, e) => {
      if (!e.isSecure()) {
        throw new TransportError(
          "ERR_TLS",
          `XMPP server ${service} offered SASL before TLS: refusing to send credentials in the clear (require encryption on the server)`,
        );
      }
      await authenticate(creds, mechanisms[0]);
    },
  });
  entity.on("error", (e: unknown) => onError(asError(e)));
  entity.on("nonza", (el: XmlElement) => saltFromChallenge(el, creds));
  entity.reconnect.stop(); // the entry reconnects with backoff itself; a client channel does not
  const TcpTransport = transportFor(entity.transports, "xmpp://localhost:5222");
  const TlsTransport = transportFor(entity.transports, "xmpps://localhost:5223");
  const TlsSocket = TlsTransport.prototype.Socket;
  class StartTlsTransport extends TcpTransport {}
  (StartTlsTransport.prototype as { Socket: unknown }).Socket = PlainSocket;
  class DirectTlsSocket extends TlsSocket {
    connect(params: object): void {
      (TlsSocket.prototype as unknown as { connect(p: object): void }).connect.call(this, {
        ...params,
        ...tlsOptions,
      });
    }
  }
  class DirectTlsTransport extends TlsTransport {}
  (DirectTlsTransport.prototype as { Socket: unknown }).Socket = DirectTlsSocket;
  entity.transports.splice(
    0,
    entity.transports.length,
    StartTlsTransport as unknown as XmppTransport,
    DirectTlsTransport as unknown as XmppTransport,
  );

  entity.streamFeatures.use("starttls", NS_TLS, async ({ entity: e }, next) => {
    const plain = e.socket;
    if (!(plain instanceof PlainSocket) || plain.inner === undefined) return next();
    const answer = await e.sendReceive(xml("starttls", { xmlns: NS_TLS }));
    if (!answer.is("proceed", NS_TLS))
      throw new TransportError("ERR_TLS", `XMPP server ${service} refused STARTTLS`);
    const raw = plain.inner;
    plain.removeAllListeners("data");
    raw.removeAllListeners("data");
    const secured = new TlsSocket();
    await new Promise<void>((resolve, reject) => {
      secured.once("connect", resolve);
      secured.once("error", (err: unknown) => reject(tlsError(`XMPP server ${service}`, err)));
      secured._attachSocket(tlsConnect({ ...tlsOptions, socket: raw }));
    });
    e._attachSocket(secured);
    await e.restart();
  });
  return entity;
}

/** Starts `entity`: resolves when bound (online), rejects with a TransportError. */
export async function login(entity: XmppClient, account: Jid, o: XmppAccountOptions): Promise<void> {
  const ms = o.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransportError("ERR_TIMEOUT", `XMPP login of ${fullOf(account)} not done within ${ms} ms`),
        ),
      ms,
    );
  });
  try {
    await Promise.race([entity.start(), timeout]);
  } catch (e) {
    forceClose(entity);
    throw loginError(e, account, entity.options.service);
  } finally {
    clearTimeout(timer);
  }
}

function loginError(e: unknown, account: Jid, service: string): TransportError {
  if (e instanceof TransportError) return e;
  const err = asError(e) as Error & { condition?: string; code?: string };
  if (err.name === "SASLError") {
    return new TransportError(
      "ERR_CONNECT",
      `XMPP login of ${fullOf(account)} refused by ${service}: ${err.condition ?? err.message}`,
      { cause: e },
    );
  }
  if (isTlsErrorCode(err.code)) return tlsError(`XMPP server ${service}`, e);
  return new TransportError(
    "ERR_CONNECT",
    `cannot log in to XMPP server ${service} as ${fullOf(account)}: ${err.message}`,
    { cause: e },
  );
}

/** Ends the stream politely if it can, and drops the socket whatever happens. */
export function forceClose(entity: XmppClient): void {
  entity.stop().catch(() => {});
  const s = entity.socket as { destroy?: () => void; socket?: { destroy(): void } } | null;
  setTimeout(() => {
    s?.destroy?.();
    s?.socket?.destroy();
  }, 1000).unref();
}

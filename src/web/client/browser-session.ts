/// <reference lib="dom" />
/**
 * The Session of the browser bundle: the same client API as the Node Session (connect,
 * services, service(name) → RemoteObject with call/signal/property, close), over
 * BrowserWsChannel, reusing Connection, PeerObjects and RemoteObject unchanged. A browser
 * cannot accept connections, so it does not listen; it may still host services through a
 * gateway that lets its clients register them (`registration: { enabled: true }`): their calls
 * come back over the page's own connection.
 *
 * Credentials go in the qi handshake (UserTokenAuthenticator): browsers cannot set headers on
 * a WebSocket, and a token in the URL would end up in logs.
 */
import { randomUUID } from "node:crypto";
import { type ClientAuthenticator, UserTokenAuthenticator } from "../../connection/auth.js";
import { Connection } from "../../connection/connection.js";
import { QiError } from "../../connection/errors.js";
import type { Dispatcher as NodeDispatcher } from "../../dispatch/index.js";
import { MAIN_OBJECT_ID } from "../../object/index.js";
import { PeerObjects, type ServiceRegistry } from "../../object/index.js";
import type { QiObject } from "../../object/index.js";
import { RemoteObject } from "../../object/index.js";
import {
  type ServiceInfo,
  serviceInfoFromValue,
  serviceInfoToStruct,
  uidAsString,
} from "../../session/service-info.js";
import { encode } from "../../wire/index.js";
import { decodeMetaObject } from "../../wire/index.js";
import { type BrowserChannelOptions, BrowserWsChannel } from "./browser-ws-channel.js";
import { Dispatcher } from "./shims/dispatch.js";

export interface BrowserSessionOptions extends BrowserChannelOptions {
  /** User name for the gateway (with `token`). */
  user?: string;
  token?: string;
  /** Any other credentials scheme (overrides user/token). */
  authenticator?: ClientAuthenticator;
  /** Handshake timeout in ms (default 10 000). */
  handshakeTimeoutMs?: number;
}

// As in src/session/service-directory.ts (not imported: it pulls in Node's net through url.ts).
const SERVICE_DIRECTORY_ID = 1;
const SERVICE_DIRECTORY_NAME = "ServiceDirectory";

// biome-ignore lint/suspicious/noExplicitAny: the arguments depend on the event (see Session.on)
type Listener = (...args: any[]) => void;

export type SessionEvent = "connected" | "disconnected" | "serviceRegistered" | "serviceUnregistered";

/** The page's own qi endpoint: `ws(s)://<host of the page>/qi`. */
export function defaultUrl(): string {
  const loc = (globalThis as { location?: Location }).location;
  if (!loc || !/^https?:$/.test(loc.protocol)) return "ws://127.0.0.1:9559/qi";
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/qi`;
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

export class Session {
  private readonly options: BrowserSessionOptions;
  private readonly dispatcher = new Dispatcher() as unknown as NodeDispatcher;
  private sdConnection: Connection | undefined;
  private sdProxy: RemoteObject | undefined;
  private sdUrl: string | undefined;
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly proxies = new Map<string, Promise<RemoteObject>>();
  private readonly listeners = new Map<SessionEvent, Set<Listener>>();
  /** Services this page hosts (through the gateway), by the id the directory gave them. */
  private readonly hosted = new Map<number, { name: string; object: QiObject }>();
  private readonly registry: ServiceRegistry = { mainObject: (id) => this.hosted.get(id)?.object };
  /** Who registers: one id per page, as a libqi process has its machine id and session id. */
  private readonly machineId = randomUUID();
  private readonly sessionId = randomUUID();
  private closed = false;

  constructor(options: BrowserSessionOptions = {}) {
    this.options = options;
  }

  /** Connects to a Service Directory or gateway (default: the page's own endpoint). */
  async connect(url: string = defaultUrl()): Promise<void> {
    if (this.sdConnection && !this.sdConnection.isClosed)
      throw new QiError("ERR_PROTOCOL", "session already connected");
    const conn = await this.openConnection(url);
    const sd = await fetchProxy(conn, SERVICE_DIRECTORY_ID);
    await sd
      .signal("serviceAdded")
      .connect((id: number, name: string) => this.emit("serviceRegistered", id, name));
    await sd.signal("serviceRemoved").connect((id: number, name: string) => {
      this.proxies.delete(name);
      this.emit("serviceUnregistered", id, name);
    });
    this.sdConnection = conn;
    this.sdProxy = sd;
    this.sdUrl = url;
    conn.onClose((reason) => {
      if (this.sdConnection !== conn) return;
      this.sdConnection = undefined;
      this.sdProxy = undefined;
      this.proxies.clear();
      // The gateway unregisters a client's services when it leaves.
      this.hosted.clear();
      if (!this.closed) this.emit("disconnected", reason.message);
    });
    this.emit("connected");
  }

  get isConnected(): boolean {
    return !!this.sdConnection?.isReady;
  }

  url(): string | undefined {
    return this.sdUrl;
  }

  /** The connection to the Service Directory (or gateway), while connected. */
  get directoryConnection(): Connection | undefined {
    return this.sdConnection;
  }

  async services(): Promise<ServiceInfo[]> {
    const list = await this.sd().call<unknown[]>("services");
    return list.map(serviceInfoFromValue);
  }

  async serviceInfo(name: string): Promise<ServiceInfo> {
    return serviceInfoFromValue(await this.sd().call("service", name));
  }

  /** A proxy of the named service (one per name while it lives). */
  service(name: string): Promise<RemoteObject> {
    if (name === SERVICE_DIRECTORY_NAME) return Promise.resolve(this.sd());
    const cached = this.proxies.get(name);
    if (cached) {
      return cached.then((p) => {
        if (!p.isReleased) return p;
        this.proxies.delete(name);
        return this.service(name);
      });
    }
    const created = (async () => {
      const info = await this.serviceInfo(name);
      return fetchProxy(await this.connectionFor(info), info.serviceId);
    })();
    this.proxies.set(name, created);
    created.catch(() => {
      if (this.proxies.get(name) === created) this.proxies.delete(name);
    });
    return created;
  }

  /** Resolves once a service of that name is registered (at once if it already is). */
  async waitForService(name: string, timeoutMs = 30_000): Promise<void> {
    let off: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        off = this.on("serviceRegistered", (_id: number, added: string) => {
          if (added === name) resolve();
        });
        timer = setTimeout(
          () => reject(new QiError("ERR_TIMEOUT", `service "${name}" did not appear within ${timeoutMs} ms`)),
          timeoutMs,
        );
        this.services().then((list) => {
          if (list.some((s) => s.name === name)) resolve();
        }, reject);
      });
    } finally {
      off?.();
      clearTimeout(timer);
    }
  }

  /**
   * Registers a QiObject as a service, through a gateway that allows its clients to register
   * services; returns its id. Calls come back over this page's connection; the service goes
   * away with it (or with unregisterService).
   */
  async registerService(name: string, object: QiObject): Promise<number> {
    const sd = this.sd();
    const info: ServiceInfo = {
      name,
      serviceId: 0,
      machineId: this.machineId,
      processId: 0,
      endpoints: [],
      sessionId: this.sessionId,
      objectUid: uidAsString(object.uid),
    };
    const id = await sd.call<number>("registerService", serviceInfoToStruct(info));
    this.hosted.set(id, { name, object });
    try {
      await sd.call("serviceReady", id);
    } catch (e) {
      this.hosted.delete(id);
      await sd.call("unregisterService", id).catch(() => {});
      throw e;
    }
    return id;
  }

  async unregisterService(id: number): Promise<void> {
    if (!this.hosted.has(id)) throw new QiError("ERR_NO_SUCH_SERVICE", `this page hosts no service #${id}`);
    try {
      await this.sd().call("unregisterService", id);
    } finally {
      this.hosted.delete(id);
    }
  }

  /**
   * Adds a listener: "connected" (), "disconnected" (reason: string), "serviceRegistered" and
   * "serviceUnregistered" (id: number, name: string). Returns a function that removes it.
   */
  on(event: SessionEvent, fn: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = new QiError("ERR_CLOSED", "session closed");
    for (const p of this.connections.values()) p.then((c) => c.close(reason)).catch(() => {});
    this.connections.clear();
    this.proxies.clear();
    this.hosted.clear();
    this.sdConnection = undefined;
    this.sdProxy = undefined;
  }

  // --------------------------------------------------------------------------------------------

  private emit(event: SessionEvent, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (e) {
        console.error(`session ${event} listener failed:`, e);
      }
    }
  }

  private sd(): RemoteObject {
    if (!this.sdProxy || this.sdProxy.isReleased) {
      throw new QiError("ERR_DISCONNECTED", "session is not connected to a Service Directory");
    }
    return this.sdProxy;
  }

  private authenticator(): ClientAuthenticator | undefined {
    const o = this.options;
    if (o.authenticator) return o.authenticator;
    if (o.user !== undefined || o.token !== undefined)
      return new UserTokenAuthenticator(o.user ?? "", o.token ?? "");
    return undefined;
  }

  private openConnection(url: string): Promise<Connection> {
    const existing = this.connections.get(url);
    if (existing) return existing;
    const opening = (async () => {
      const channel = await BrowserWsChannel.open(url, this.options);
      const conn = new Connection(channel, {
        role: "client",
        authenticator: this.authenticator(),
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      });
      // Calls flow both ways (ClientServerSocket): the services this page hosts, the objects it passes.
      PeerObjects.attach(conn, { dispatcher: this.dispatcher, registry: this.registry });
      conn.onClose(() => {
        if (this.connections.get(url) === opening) this.connections.delete(url);
      });
      await conn.ready();
      return conn;
    })();
    this.connections.set(url, opening);
    opening.catch(() => {
      if (this.connections.get(url) === opening) this.connections.delete(url);
    });
    return opening;
  }

  /**
   * Where a service is reached: over the directory's connection when it says so (a gateway
   * publishes `qi:ServiceDirectory`) or publishes the endpoint we are connected to; else over
   * one of its ws/wss endpoints; else, as a last resort, over the directory's connection.
   */
  private async connectionFor(info: ServiceInfo): Promise<Connection> {
    const sdConn = this.sdConnection!;
    const own = originOf(this.sdUrl ?? "");
    if (info.endpoints.some((e) => e === "qi:ServiceDirectory" || originOf(e) === own)) return sdConn;
    const ws = info.endpoints.filter((e) => /^wss?:\/\//i.test(e));
    if (ws.length === 0) return sdConn;
    try {
      return await Promise.any(ws.map((e) => this.openConnection(e)));
    } catch (e) {
      throw new QiError(
        "ERR_NO_SUCH_SERVICE",
        `Could not connect to service #${info.serviceId}: no endpoint replied.`,
        {
          cause: e,
        },
      );
    }
  }
}

/** Fetches a remote object's MetaObject (metaObject(0), spec §5.8) and builds its proxy. */
async function fetchProxy(conn: Connection, serviceId: number): Promise<RemoteObject> {
  const peer = PeerObjects.of(conn)!;
  const reply = await conn.call(
    { service: serviceId, object: MAIN_OBJECT_ID, action: 2 },
    encode("(I)", [0]),
  );
  const proxy = new RemoteObject(peer, serviceId, MAIN_OBJECT_ID, decodeMetaObject(reply.payload));
  peer.adoptProxy(proxy);
  return proxy;
}

/** Connects a new session: `await connect("wss://robot:9443/qi", { user, token })`. */
export async function connect(
  url: string = defaultUrl(),
  options: BrowserSessionOptions = {},
): Promise<Session> {
  const s = new Session(options);
  await s.connect(url);
  return s;
}

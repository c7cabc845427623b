/**
 * Session (spec §5.8, §8.1): a client of a Service Directory and a host of services. One
 * session may also *be* the Service Directory (listenStandalone). The same class runs on Node
 * and in the browser bundle: its channels come from a TransportFactory (options.ts), by default
 * the scheme registry of the runtime. Its jobs live in their own files: options.ts (resolved
 * once), connections.ts (connections and endpoint choice), service-host.ts (hosting),
 * reconnection.ts (finding a lost directory again).
 */
import { EventEmitter } from "node:events";
import { QiError } from "../connection/errors.js";
import type { Connection } from "../connection/index.js";
import { PeerObjects, type QiObject, type RemoteObject, type RequestForwarder } from "../object/index.js";
import {
  formatUrl,
  isLoopbackUrl,
  LISTEN_DEFAULTS,
  type Listener,
  parseUrl,
  sortEndpoints,
} from "../transport/index.js";
import { fetchMetaObject, fetchProxy, SessionConnections } from "./connections.js";
import { HeldServices } from "./held-services.js";
import {
  DEFAULT_LISTEN_URL,
  DEFAULT_STANDALONE_URL,
  DEFAULT_WAIT_FOR_SERVICE_MS,
  type ResolvedSessionOptions,
  resolveSessionOptions,
  type SessionOptions,
} from "./options.js";
import { DirectoryReconnection } from "./reconnection.js";
import { ServiceDirectory, SERVICE_DIRECTORY_ID, SERVICE_DIRECTORY_NAME } from "./service-directory.js";
import { type ReregisteredService, ServiceHost } from "./service-host.js";
import { environmentDefaults } from "./environment.js";
import { type ServiceInfo, serviceInfoFromValue } from "./service-info.js";

export { DEFAULT_CONNECT_URL, DEFAULT_LISTEN_URL, type SessionOptions } from "./options.js";
export type { ReregisteredService } from "./service-host.js";

/**
 * Where a session stands with its Service Directory (or gateway): `idle` before connect(),
 * `connected`, `reconnecting` after a loss (proxies suspended, calls fail at once with
 * ERR_DISCONNECTED), `disconnected` after a loss it will not recover from (reconnect off, or
 * maxAttempts reached), `closed` after close().
 */
export type SessionState = "idle" | "connected" | "reconnecting" | "disconnected" | "closed";

export interface SessionEvents {
  connected: [];
  disconnected: [reason: string];
  /** Back after a loss: hosted services registered again, held proxies rebound, signals registered again. */
  reconnected: [];
  serviceRegistered: [id: number, name: string];
  serviceUnregistered: [id: number, name: string];
  /** Another attempt to reach the lost Service Directory will be made in `delayMs`. */
  reconnecting: [attempt: number, delayMs: number, lastError: string | undefined];
  /** Reconnected, and every hosted service registered (and made ready) again. */
  servicesRegisteredAgain: [services: ReregisteredService[]];
  /** maxAttempts reached: the session stays without a directory. */
  reconnectFailed: [lastError: string | undefined];
}

export class Session extends EventEmitter<SessionEvents> {
  readonly machineId: string;
  readonly sessionId = crypto.randomUUID();
  readonly dispatcher: ResolvedSessionOptions["dispatcher"];
  private readonly options: ResolvedSessionOptions;
  private sdConnection: Connection | undefined;
  private sdProxy: RemoteObject | undefined;
  private sdUrl: string | undefined;
  private readonly connections: SessionConnections;
  private readonly host: ServiceHost;
  private readonly reconnection: DirectoryReconnection | undefined;
  private readonly netListeners: Listener[] = [];
  private directory: ServiceDirectory | undefined;
  private readonly held: HeldServices;
  private closed = false;
  private lost = false;

  constructor(options: SessionOptions = {}) {
    super();
    this.options = resolveSessionOptions(options);
    this.machineId = this.options.machineId;
    this.dispatcher = this.options.dispatcher;
    this.host = new ServiceHost({
      machineId: this.machineId,
      sessionId: this.sessionId,
      sd: () => this.sd(),
      directory: () => this.directory,
      endpoints: () => this.endpoints(),
      ensureListening: async () => {
        if (this.netListeners.length === 0 && this.options.transport.canListen(DEFAULT_LISTEN_URL))
          await this.listen(DEFAULT_LISTEN_URL);
      },
      reconnecting: () => this.reconnection?.active ?? false,
    });
    this.connections = new SessionConnections(this.options, this.host.registry);
    this.held = new HeldServices({
      locate: (name) => this.serviceConnection(name),
      reachedThrough: (name, conn) => this.connections.reachedThrough(name, conn),
    });
    const policy = this.options.reconnect;
    this.reconnection =
      policy === undefined
        ? undefined
        : new DirectoryReconnection(policy, {
            attempt: async (url) => {
              const conn = await this.connections.open(url);
              if (this.closed) {
                conn.close();
                return undefined;
              }
              await this.attachDirectory(conn, url);
              try {
                const again = this.host.size > 0 ? await this.host.registerAgain() : [];
                await this.held.restoreAll();
                return again;
              } catch (e) {
                // Try the whole sequence again on a fresh connection.
                conn.close(e instanceof QiError ? e : undefined);
                throw e;
              }
            },
            reconnecting: (attempt, delayMs, lastError) =>
              this.emit("reconnecting", attempt, delayMs, lastError),
            registeredAgain: (services) => {
              if (this.host.size > 0) this.emit("servicesRegisteredAgain", services);
              this.emit("reconnected");
            },
            failed: (lastError) => this.emit("reconnectFailed", lastError),
          });
  }

  // --- connecting -------------------------------------------------------------------------

  /**
   * Connects to a Service Directory (or a gateway). Without a URL: QI_URL (with QI_USER and
   * QI_TOKEN as credentials when the session has none), as the qi command reads them; else the
   * page's own `ws(s)://host/qi` in a web page, `tcp://127.0.0.1:9559` elsewhere
   * (SessionOptions.defaultUrl).
   */
  async connect(url?: string): Promise<void> {
    if (this.sdConnection && !this.sdConnection.isClosed)
      throw new QiError("ERR_PROTOCOL", "session already connected");
    if (url === undefined) {
      const env = environmentDefaults();
      url = env.url ?? this.options.defaultUrl;
      this.options.authenticator ??= env.authenticator;
    }
    const normalized = this.normalizeConnectUrl(url);
    const conn = await this.connections.open(normalized);
    await this.attachDirectory(conn, normalized);
  }

  /**
   * A qi URL in its one canonical form; a URL of a scheme only the session's own transport
   * knows (an in-process bridge, xmpp:, nats:) goes as given when that transport takes it.
   */
  private normalizeConnectUrl(url: string): string {
    try {
      return formatUrl(parseUrl(url));
    } catch (e) {
      if (this.options.transport.canConnect(url)) return url;
      throw e;
    }
  }

  get isConnected(): boolean {
    return !!this.sdConnection && this.sdConnection.isReady;
  }

  /** Where the session stands with its Service Directory (see SessionState). */
  get state(): SessionState {
    if (this.closed) return "closed";
    if (this.isConnected) return "connected";
    if (this.reconnection?.active) return "reconnecting";
    return this.lost ? "disconnected" : "idle";
  }

  /** The URL of the Service Directory this session is connected to. */
  url(): string | undefined {
    return this.sdUrl;
  }

  /** The URLs this session listens on. */
  endpoints(): string[] {
    return sortEndpoints(this.netListeners.flatMap((l) => l.endpoints()));
  }

  /** The Service Directory object, if this session is the directory (listenStandalone). */
  get serviceDirectory(): ServiceDirectory | undefined {
    return this.directory;
  }

  /** The connection to the Service Directory, while connected. */
  get directoryConnection(): Connection | undefined {
    return this.sdConnection;
  }

  // --- listening --------------------------------------------------------------------------

  /** Listens for incoming connections (to serve the services this session registers). */
  async listen(url: string = DEFAULT_LISTEN_URL): Promise<string[]> {
    const { transport, serverTls, maxPayload } = this.options;
    if (!transport.listen) throw new QiError("ERR_PROTOCOL", "this session's transport cannot listen");
    const listener = await transport.listen(
      formatUrl(parseUrl(url, LISTEN_DEFAULTS)),
      { tls: serverTls, maxPayload },
      (channel) => this.connections.accept(channel),
    );
    this.netListeners.push(listener);
    const endpoints = listener.endpoints();
    if (this.sdConnection && !this.directory) await this.host.publishEndpoints();
    return endpoints;
  }

  /** Becomes a Service Directory listening on `url`, and connects to itself as a client. */
  async listenStandalone(url: string = DEFAULT_STANDALONE_URL): Promise<string[]> {
    if (this.directory || this.sdConnection)
      throw new QiError("ERR_PROTOCOL", "session already connected or standalone");
    this.directory = new ServiceDirectory({ machineId: this.machineId, endpoints: () => this.endpoints() });
    try {
      await this.listen(url);
      const own = this.endpoints().find((e) => isLoopbackUrl(e)) ?? this.endpoints()[0];
      if (!own) throw new QiError("ERR_PROTOCOL", "listening produced no endpoint");
      // The directory's own client connection authenticates with a secret of this process,
      // so a directory that requires credentials from others can still talk to itself.
      this.connections.selfUrl = formatUrl(parseUrl(own));
      await this.connect(own);
    } catch (e) {
      await this.close();
      throw e;
    }
    return this.endpoints();
  }

  // --- services ---------------------------------------------------------------------------

  async services(): Promise<ServiceInfo[]> {
    const list = await this.sd().call<unknown[]>("services");
    return list.map(serviceInfoFromValue);
  }

  async serviceInfo(name: string): Promise<ServiceInfo> {
    return serviceInfoFromValue(await this.sd().call("service", name));
  }

  /**
   * A proxy of the named service, over the best connection (spec §6.4); one per name for the
   * session's life. It survives the service's and the session's losses: suspended meanwhile
   * (calls fail at once with ERR_DISCONNECTED), rebound with its signal subscriptions once the
   * service is back (held-services.ts).
   */
  service(name: string): Promise<RemoteObject> {
    if (name === SERVICE_DIRECTORY_NAME) return Promise.resolve(this.sd());
    return this.held.get(name);
  }

  /**
   * The connection a service is reached through, chosen like libqi (spec §6.4), with its
   * info. The gateway forwards raw messages over it.
   */
  async serviceConnection(name: string): Promise<{ connection: Connection; info: ServiceInfo }> {
    const info = await this.serviceInfo(name);
    const sdConn = this.sdConnection;
    if (!sdConn) throw new QiError("ERR_DISCONNECTED", "session is not connected to a Service Directory");
    return { connection: await this.connections.forService(info, sdConn, this.sdUrl), info };
  }

  /**
   * Resolves when the service is registered and ready (at once if it already is), or rejects
   * with ERR_TIMEOUT after `timeoutMs`.
   */
  async waitForService(name: string, timeoutMs = DEFAULT_WAIT_FOR_SERVICE_MS): Promise<void> {
    const sd = this.sd();
    let resolveAdded!: () => void;
    const added = new Promise<void>((r) => {
      resolveAdded = r;
    });
    const link = await sd.signal("serviceAdded").connect((_id: number, n: string) => {
      if (n === name) resolveAdded();
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if ((await this.services()).some((s) => s.name === name)) return;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new QiError("ERR_TIMEOUT", `service "${name}" did not appear within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      await Promise.race([added, timeout]);
    } finally {
      clearTimeout(timer);
      await sd.signal("serviceAdded").disconnect(link);
    }
  }

  /**
   * Registers an object as a service; returns its id. Listens on the default URL if needed
   * (where the transport can: a web page is reached back over its own connection, through a
   * gateway that lets its clients register services). A RequestForwarder (the gateway's)
   * receives the service's requests as raw messages. `ready: false` leaves it pending
   * (invisible to others) until serviceReady(id).
   */
  registerService(
    name: string,
    object: QiObject | RequestForwarder,
    options: { ready?: boolean } = {},
  ): Promise<number> {
    return this.host.register(name, object, options.ready !== false);
  }

  /** Makes a service registered with `ready: false` visible. */
  serviceReady(id: number): Promise<void> {
    return this.host.ready(id);
  }

  /** Also takes the id a service was first given, after it was registered again under another. */
  unregisterService(id: number): Promise<void> {
    return this.host.unregister(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reconnection?.cancel();
    this.connections.close(new QiError("ERR_CLOSED", "session closed"));
    await Promise.all(this.netListeners.splice(0).map((l) => l.close().catch(() => {})));
    this.held.forget();
    this.sdConnection = undefined;
    this.sdProxy = undefined;
    if (this.options.ownsDispatcher) await this.dispatcher.close();
  }

  // --- internals --------------------------------------------------------------------------

  /** The connections accepted on this session's listeners (tests cut them to play a lost peer). */
  protected get serverConnections(): ReadonlySet<Connection> {
    return this.connections.incoming;
  }

  private sd(): RemoteObject {
    if (!this.sdProxy || this.sdProxy.isReleased)
      throw new QiError("ERR_DISCONNECTED", "session is not connected to a Service Directory");
    return this.sdProxy;
  }

  /** The libqi connect sequence (spec §5.8): metaObject, serviceAdded/Removed, machineId. */
  private async attachDirectory(conn: Connection, url: string): Promise<void> {
    // After a loss, the directory's proxy the app may hold is rebound (its listeners, and the
    // session's own, registered again once) rather than made anew.
    const previous = this.sdProxy;
    const peer = PeerObjects.of(conn);
    let sdProxy: RemoteObject;
    if (previous !== undefined && peer !== undefined) {
      await previous.rebind(peer, SERVICE_DIRECTORY_ID, await fetchMetaObject(conn, SERVICE_DIRECTORY_ID));
      sdProxy = previous;
    } else {
      sdProxy = await fetchProxy(conn, SERVICE_DIRECTORY_ID);
      await sdProxy.signal("serviceAdded").connect((id: number, name: string) => {
        this.emit("serviceRegistered", id, name);
        void this.held.registered(name);
      });
      await sdProxy.signal("serviceRemoved").connect((id: number, name: string) => {
        this.connections.forget(name);
        this.held.suspend(
          name,
          `service "${name}" was unregistered; its proxy resumes when it is registered again`,
        );
        this.emit("serviceUnregistered", id, name);
      });
    }
    await sdProxy.call("machineId");
    this.sdConnection = conn;
    this.sdProxy = sdProxy;
    this.sdUrl = url;
    this.lost = false;
    conn.onClose((reason) => {
      if (this.sdConnection !== conn) return;
      this.sdConnection = undefined;
      this.connections.forgetAllServices();
      if (this.closed) return;
      this.lost = true;
      // A standalone directory's own connection ends only with it; others look for it again.
      if (!this.directory) this.reconnection?.start(url);
      this.emit("disconnected", reason.message);
    });
    this.emit("connected");
  }
}

/**
 * Session (spec §5.8, §8.1): a client of a Service Directory and a host of services. One
 * session may also *be* the Service Directory (listenStandalone). Connections to services
 * are chosen like libqi's (spec §6.4) and shared: one connection per endpoint.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import {
  type AuthProviderFactory,
  type AuthProviderOption,
  AuthState,
  type ClientAuthenticator,
  providerFor,
  safeEqual,
  UserTokenAuthenticator,
} from "../connection/index.js";
import { Connection } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import { Dispatcher, type DispatchMode } from "../dispatch/index.js";
import { MAIN_OBJECT_ID } from "../object/index.js";
import { PeerObjects, type PeerObjectsOptions, type ServiceRegistry } from "../object/index.js";
import type { RequestForwarder } from "../object/index.js";
import { QiObject } from "../object/index.js";
import { RemoteObject } from "../object/index.js";
import { Strand } from "../dispatch/index.js";
import {
  type ClientTlsOptions,
  type Channel,
  CONNECT_DEFAULTS,
  connect as connectChannel,
  formatUrl,
  LISTEN_DEFAULTS,
  isLoopbackUrl,
  type Listener,
  listen as listenChannel,
  parseUrl,
  type ServerTlsOptions,
  sortEndpoints,
} from "../transport/index.js";
import { encode } from "../wire/index.js";
import { decodeMetaObject } from "../wire/index.js";
import { machineId as defaultMachineId } from "./machine-id.js";
import { Backoff, type BackoffPolicy, CancellableDelay } from "./reconnect.js";
import { ServiceDirectory, SERVICE_DIRECTORY_ID, SERVICE_DIRECTORY_NAME } from "./service-directory.js";
import { type ServiceInfo, serviceInfoFromValue, serviceInfoToStruct, uidAsString } from "./service-info.js";

export const DEFAULT_CONNECT_URL = "tcp://127.0.0.1:9559";
export const DEFAULT_LISTEN_URL = "tcp://127.0.0.1:0";
const SELF_USER = "__qi_self__";

export interface SessionOptions {
  /** Credentials for the Service Directory and every service connection. */
  authenticator?: ClientAuthenticator;
  /**
   * Checks clients that connect to this session's listeners; default: accept everyone. One
   * provider shared by all connections, or a factory (a function) called once per incoming
   * connection, for providers with per-connection state such as a challenge's nonce.
   */
  authProvider?: AuthProviderOption;
  /** Refuse clients that skip authentication (default false, lenient like libqi). */
  enforceAuth?: boolean;
  /** TLS for outgoing tcps/tcpsm connections (verification is on by default). */
  clientTls?: ClientTlsOptions;
  /** TLS identity for tcps/tcpsm listeners. */
  serverTls?: ServerTlsOptions;
  /** Dispatch policy for methods served by this session (default: QI_DISPATCH or async). */
  dispatch?: DispatchMode;
  dispatcher?: Dispatcher;
  /** Override the machine id (default: libqi's file, spec §6.5). */
  machineId?: string;
  /** Connect/handshake timeout in ms (default 10 s). */
  timeoutMs?: number;
  /** Largest payload accepted from peers (default 50 MB). */
  maxPayload?: number;
  /** Per-call timeout for methods this session serves. */
  callTimeoutMs?: number;
  /** Calls of one peer that may run here at once (default 10,000); more get an Error. */
  maxServedCalls?: number;
  /** Answers and events queued toward a peer above which it is disconnected (default 128 MiB). */
  maxQueuedBytes?: number;
  /**
   * A host of services that loses its Service Directory keeps its objects and listeners, tries
   * to reconnect with this backoff (true: the defaults of reconnect.ts), and registers its
   * services again once back (events "reconnecting", "servicesRegisteredAgain"). Default off
   * (the gateway's upstream session re-attaches by itself): "disconnected" is then the end of
   * the session's directory connection.
   */
  reconnect?: boolean | BackoffPolicy;
}

/** A service registered again after a reconnection: the id it was first given, the new one. */
export interface ReregisteredService {
  name: string;
  firstId: number;
  id: number;
}

export interface SessionEvents {
  connected: [];
  disconnected: [reason: string];
  serviceRegistered: [id: number, name: string];
  serviceUnregistered: [id: number, name: string];
  /** Another attempt to reach the lost Service Directory will be made in `delayMs`. */
  reconnecting: [attempt: number, delayMs: number, lastError: string | undefined];
  /** Reconnected, and every hosted service registered (and made ready) again. */
  servicesRegisteredAgain: [services: ReregisteredService[]];
  /** maxAttempts reached: the session stays without a directory. */
  reconnectFailed: [lastError: string | undefined];
}

interface Hosted {
  name: string;
  object: QiObject | RequestForwarder;
  /** Made visible (serviceReady), to be made visible again after a reconnection. */
  ready: boolean;
  /** The id registerService returned; callers keep using it after a re-registration. */
  firstId: number;
  /** Unregistered while the directory was being reached again. */
  removed?: boolean;
}

export class Session extends EventEmitter<SessionEvents> {
  readonly machineId: string;
  readonly sessionId = randomUUID();
  readonly dispatcher: Dispatcher;
  private readonly options: SessionOptions;
  private sdConnection: Connection | undefined;
  private sdProxy: RemoteObject | undefined;
  private sdUrl: string | undefined;
  /** Outgoing connections by endpoint URL (the SD's too), shared by all services behind it. */
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly netListeners: Listener[] = [];
  private readonly serverConnections = new Set<Connection>();
  /** Services this session hosts: service id → main object. */
  private readonly hosted = new Map<number, Hosted>();
  /** First id → current id, for services registered again under a new id. */
  private readonly currentIds = new Map<number, number>();
  private reconnectLoop: Promise<void> | undefined;
  private readonly reconnectDelay = new CancellableDelay();
  private readonly registry: ServiceRegistry;
  private directory: ServiceDirectory | undefined;
  private readonly serviceProxies = new Map<string, Promise<RemoteObject>>();
  /** The connection each service was reached through (relative endpoints `qi:X` reuse it). */
  private readonly serviceConnectionsByName = new Map<string, Connection>();
  private closed = false;
  private selfUrl: string | undefined;
  private readonly selfToken = randomUUID();

  constructor(options: SessionOptions = {}) {
    super();
    this.options = options;
    this.machineId = options.machineId ?? defaultMachineId();
    this.dispatcher = options.dispatcher ?? new Dispatcher({ mode: options.dispatch });
    this.registry = {
      mainObject: (id) =>
        id === SERVICE_DIRECTORY_ID ? this.directory?.object : this.hostedById(id)?.object,
    };
  }

  // --- connecting -------------------------------------------------------------------------

  /** Connects to a Service Directory (default `tcp://127.0.0.1:9559`). */
  async connect(url: string = DEFAULT_CONNECT_URL): Promise<void> {
    if (this.sdConnection && !this.sdConnection.isClosed)
      throw new QiError("ERR_PROTOCOL", "session already connected");
    const normalized = normalizeConnectUrl(url);
    const conn = await this.openConnection(normalized);
    await this.attachDirectory(conn, normalized);
  }

  get isConnected(): boolean {
    return !!this.sdConnection && this.sdConnection.isReady;
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

  // --- listening --------------------------------------------------------------------------

  /** Listens for incoming connections (to serve the services this session registers). */
  async listen(url: string = DEFAULT_LISTEN_URL): Promise<string[]> {
    const listener = await listenChannel(
      normalizeListenUrl(url),
      { tls: this.options.serverTls, maxPayload: this.options.maxPayload },
      (channel) => this.acceptChannel(channel),
    );
    this.netListeners.push(listener);
    const endpoints = listener.endpoints();
    if (this.sdConnection && !this.directory) await this.publishEndpoints();
    return endpoints;
  }

  /** Becomes a Service Directory listening on `url`, and connects to itself as a client. */
  async listenStandalone(url: string = "tcp://127.0.0.1:9559"): Promise<string[]> {
    if (this.directory || this.sdConnection)
      throw new QiError("ERR_PROTOCOL", "session already connected or standalone");
    this.directory = new ServiceDirectory({ machineId: this.machineId, endpoints: () => this.endpoints() });
    try {
      await this.listen(url);
      const own = this.endpoints().find((e) => isLoopbackUrl(e)) ?? this.endpoints()[0];
      if (!own) throw new QiError("ERR_PROTOCOL", "listening produced no endpoint");
      // The directory's own client connection authenticates with a secret of this process,
      // so a directory that requires credentials from others can still talk to itself.
      this.selfUrl = normalizeConnectUrl(own);
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

  /** A proxy of the named service, over the best connection (spec §6.4). */
  service(name: string): Promise<RemoteObject> {
    if (name === SERVICE_DIRECTORY_NAME) return Promise.resolve(this.sd());
    const cached = this.serviceProxies.get(name);
    if (cached) {
      return cached.then((p) => {
        if (!p.isReleased) return p;
        this.serviceProxies.delete(name);
        return this.service(name);
      });
    }
    const created = this.createServiceProxy(name);
    this.serviceProxies.set(name, created);
    created.catch(() => {
      if (this.serviceProxies.get(name) === created) this.serviceProxies.delete(name);
    });
    return created;
  }

  /**
   * The connection a service is reached through, chosen like libqi (spec §6.4), with its
   * info. The gateway forwards raw messages over it.
   */
  async serviceConnection(name: string): Promise<{ connection: Connection; info: ServiceInfo }> {
    const info = await this.serviceInfo(name);
    return { connection: await this.connectionFor(info), info };
  }

  /** The connection to the Service Directory, while connected. */
  get directoryConnection(): Connection | undefined {
    return this.sdConnection;
  }

  /** Resolves when the service is registered and ready (or rejects after `timeoutMs`). */
  async waitForService(name: string, timeoutMs = 30_000): Promise<void> {
    const sd = this.sd();
    let resolveAdded!: () => void;
    const added = new Promise<void>((r) => {
      resolveAdded = r;
    });
    const link = await sd.signal("serviceAdded").connect((_id: number, n: string) => {
      if (n === name) resolveAdded();
    });
    try {
      const present = (await this.services()).some((s) => s.name === name);
      if (present) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new QiError("ERR_TIMEOUT", `service "${name}" did not appear within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([added, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await sd.signal("serviceAdded").disconnect(link);
    }
  }

  /**
   * Registers an object as a service; returns its id. Listens on the default URL if needed.
   * A RequestForwarder (the gateway's) receives the service's requests as raw messages.
   * `ready: false` leaves it pending (invisible to others) until serviceReady(id).
   */
  async registerService(
    name: string,
    object: QiObject | RequestForwarder,
    options: { ready?: boolean } = {},
  ): Promise<number> {
    if (object instanceof QiObject && object.wantsStrand && !object.strand) object.strand = new Strand();
    const ready = options.ready ?? true;
    if (this.directory) {
      // In-process registration on our own directory: reachable over our listeners.
      const id = this.directory.registerLocal(this.infoFor(name, object));
      this.hosted.set(id, { name, object, ready, firstId: id });
      if (ready) this.directory.serviceReady(id);
      return id;
    }
    if (this.netListeners.length === 0) await this.listen(DEFAULT_LISTEN_URL);
    const sd = this.sd();
    const id = await sd.call<number>("registerService", serviceInfoToStruct(this.infoFor(name, object)));
    const entry: Hosted = { name, object, ready: false, firstId: id };
    this.hosted.set(id, entry);
    if (!ready) return id;
    try {
      await sd.call("serviceReady", id);
      entry.ready = true;
    } catch (e) {
      this.hosted.delete(id);
      throw e;
    }
    return id;
  }

  /** Makes a service registered with `ready: false` visible. */
  async serviceReady(id: number): Promise<void> {
    id = this.currentIds.get(id) ?? id;
    const entry = this.hosted.get(id);
    if (!entry) throw new QiError("ERR_NO_SUCH_SERVICE", `this session hosts no service #${id}`);
    if (this.reconnectLoop) {
      // Our ids mean nothing to a directory that is not back yet: made ready once registered again.
      entry.ready = true;
      return;
    }
    if (this.directory) this.directory.serviceReady(id);
    else await this.sd().call("serviceReady", id);
    entry.ready = true;
  }

  /** Also takes the id a service was first given, after it was registered again under another. */
  async unregisterService(id: number): Promise<void> {
    id = this.currentIds.get(id) ?? id;
    const entry = this.hosted.get(id);
    if (!entry) throw new QiError("ERR_NO_SUCH_SERVICE", `this session hosts no service #${id}`);
    if (this.reconnectLoop) {
      // Never send an old id to the directory being reached again: it may be another host's
      // service there. Forgotten here; registerAgain drops it (or unregisters its new id).
      entry.removed = true;
      this.hosted.delete(id);
      this.currentIds.delete(entry.firstId);
      return;
    }
    try {
      if (this.directory) this.directory.unregisterService(id);
      else await this.sd().call("unregisterService", id);
    } finally {
      this.hosted.delete(id);
      this.currentIds.delete(entry.firstId);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reconnectDelay.cancel();
    const reason = new QiError("ERR_CLOSED", "session closed");
    for (const p of this.connections.values()) p.then((c) => c.close(reason)).catch(() => {});
    this.connections.clear();
    for (const c of this.serverConnections) c.close(reason);
    this.serverConnections.clear();
    await Promise.all(this.netListeners.splice(0).map((l) => l.close().catch(() => {})));
    this.serviceProxies.clear();
    this.serviceConnectionsByName.clear();
    this.sdConnection = undefined;
    this.sdProxy = undefined;
    if (!this.options.dispatcher) await this.dispatcher.close();
  }

  // --- internals --------------------------------------------------------------------------

  /** A hosted service by its current id, or by the id it had before a re-registration. */
  private hostedById(id: number): Hosted | undefined {
    const current = this.hosted.get(id);
    if (current) return current;
    const moved = this.currentIds.get(id);
    return moved === undefined ? undefined : this.hosted.get(moved);
  }

  /** Whether losing the directory starts the reconnection of a service host. */
  private shouldReconnect(): boolean {
    return (
      !this.closed &&
      !this.directory &&
      this.options.reconnect !== undefined &&
      this.options.reconnect !== false &&
      this.hosted.size > 0 &&
      this.reconnectLoop === undefined
    );
  }

  /**
   * Tries to reach the directory at `url` again until it answers (or maxAttempts), then
   * registers every hosted service again. Clients connected to our listeners are served all along.
   */
  private startReconnecting(url: string): void {
    const policy = this.options.reconnect === true ? {} : (this.options.reconnect as BackoffPolicy);
    const backoff = new Backoff(policy);
    const loop = async () => {
      let lastError: string | undefined;
      for (;;) {
        const delay = backoff.next();
        if (delay === undefined) {
          this.emit("reconnectFailed", lastError);
          return;
        }
        this.emit("reconnecting", backoff.attempt, delay, lastError);
        if (!(await this.reconnectDelay.wait(delay)) || this.closed) return;
        try {
          const conn = await this.openConnection(url);
          if (this.closed) {
            conn.close();
            return;
          }
          await this.attachDirectory(conn, url);
          try {
            const again = await this.registerAgain();
            this.emit("servicesRegisteredAgain", again);
            return;
          } catch (e) {
            // Try the whole sequence again on a fresh connection.
            conn.close(e instanceof QiError ? e : undefined);
            throw e;
          }
        } catch (e) {
          lastError = e instanceof Error ? e.message : String(e);
        }
      }
    };
    this.reconnectLoop = loop().finally(() => {
      this.reconnectLoop = undefined;
    });
  }

  /**
   * Registers each hosted service with the (new) directory, in the order they were first
   * registered, then makes the ready ones visible: the new ids are all known to our registry
   * before any client can see them (and a new id may be another service's old one).
   */
  private async registerAgain(): Promise<ReregisteredService[]> {
    const sd = this.sd();
    const entries = [...this.hosted.values()];
    const ids: number[] = [];
    for (const entry of entries) {
      ids.push(
        await sd.call<number>("registerService", serviceInfoToStruct(this.infoFor(entry.name, entry.object))),
      );
    }
    const out: ReregisteredService[] = [];
    // Only the entries registered again move: a service registered meanwhile keeps its id.
    const moving = new Set(entries);
    for (const [id, entry] of this.hosted) if (moving.has(entry)) this.hosted.delete(id);
    for (const [i, entry] of entries.entries()) {
      const id = ids[i]!;
      if (entry.removed) {
        await sd.call("unregisterService", id);
        continue;
      }
      this.hosted.set(id, entry);
      if (id === entry.firstId) this.currentIds.delete(entry.firstId);
      else this.currentIds.set(entry.firstId, id);
      out.push({ name: entry.name, firstId: entry.firstId, id });
    }
    for (const { id } of out) if (this.hosted.get(id)?.ready) await sd.call("serviceReady", id);
    return out;
  }

  private sd(): RemoteObject {
    if (!this.sdProxy || this.sdProxy.isReleased)
      throw new QiError("ERR_DISCONNECTED", "session is not connected to a Service Directory");
    return this.sdProxy;
  }

  private infoFor(name: string, object: { uid: Uint8Array }): ServiceInfo {
    return {
      name,
      serviceId: 0,
      machineId: this.machineId,
      processId: process.pid,
      endpoints: this.endpoints(),
      sessionId: this.sessionId,
      objectUid: uidAsString(object.uid),
    };
  }

  private async publishEndpoints(): Promise<void> {
    const sd = this.sd();
    for (const [id, { name, object }] of this.hosted) {
      await sd.call(
        "updateServiceInfo",
        serviceInfoToStruct({ ...this.infoFor(name, object), serviceId: id }),
      );
    }
  }

  private acceptChannel(channel: Channel): void {
    if (this.closed) {
      channel.close();
      return;
    }
    const conn = new Connection(channel, {
      role: "server",
      authProvider: this.serverAuthProvider(),
      enforceAuth: this.options.enforceAuth,
      handshakeTimeoutMs: this.options.timeoutMs,
      maxPayload: this.options.maxPayload,
      maxQueuedBytes: this.options.maxQueuedBytes,
    });
    PeerObjects.attach(conn, this.peerObjectsOptions());
    this.serverConnections.add(conn);
    conn.onClose(() => this.serverConnections.delete(conn));
  }

  /** How every connection of this session serves: incoming ones and ours alike. */
  private peerObjectsOptions(): PeerObjectsOptions {
    return {
      registry: this.registry,
      dispatcher: this.dispatcher,
      callTimeoutMs: this.options.callTimeoutMs,
      maxServedCalls: this.options.maxServedCalls,
    };
  }

  private selfAuthenticator(): ClientAuthenticator {
    return new UserTokenAuthenticator(SELF_USER, this.selfToken);
  }

  /**
   * The configured provider, plus this process's own client connection (listenStandalone): a
   * factory, so that a configured factory still makes one provider per connection.
   */
  private serverAuthProvider(): AuthProviderFactory | undefined {
    const option = this.options.authProvider;
    if (!option) return undefined;
    const selfToken = this.selfToken;
    return (connectionCtx) => {
      const provider = providerFor(option, connectionCtx);
      return {
        processAuth: (data, ctx) =>
          data.get("user") === SELF_USER &&
          typeof data.get("token") === "string" &&
          safeEqual(data.get("token") as string, selfToken)
            ? { state: AuthState.Done, identity: SELF_USER }
            : provider.processAuth(data, ctx),
      };
    };
  }

  /** Opens (or reuses) an authenticated client connection to an endpoint. */
  private openConnection(url: string): Promise<Connection> {
    const existing = this.connections.get(url);
    if (existing) return existing;
    const opening = (async () => {
      const channel = await connectChannel(url, {
        tls: this.options.clientTls,
        timeout: this.options.timeoutMs,
        maxPayload: this.options.maxPayload,
      });
      const conn = new Connection(channel, {
        role: "client",
        authenticator: this.selfUrl === url ? this.selfAuthenticator() : this.options.authenticator,
        handshakeTimeoutMs: this.options.timeoutMs,
        maxQueuedBytes: this.options.maxQueuedBytes,
      });
      // Our connections serve calls too (ClientServerSocket): services we host, objects we pass.
      PeerObjects.attach(conn, this.peerObjectsOptions());
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

  /** The libqi connect sequence (spec §5.8): metaObject, serviceAdded/Removed, machineId. */
  private async attachDirectory(conn: Connection, url: string): Promise<void> {
    const sdProxy = await fetchProxy(conn, SERVICE_DIRECTORY_ID);
    await sdProxy.signal("serviceAdded").connect((id: number, name: string) => {
      this.emit("serviceRegistered", id, name);
    });
    await sdProxy.signal("serviceRemoved").connect((id: number, name: string) => {
      this.serviceProxies.delete(name);
      this.serviceConnectionsByName.delete(name);
      this.emit("serviceUnregistered", id, name);
    });
    await sdProxy.call("machineId");
    this.sdConnection = conn;
    this.sdProxy = sdProxy;
    this.sdUrl = url;
    conn.onClose((reason) => {
      if (this.sdConnection !== conn) return;
      this.sdConnection = undefined;
      this.sdProxy = undefined;
      this.serviceProxies.clear();
      this.serviceConnectionsByName.clear();
      if (this.closed) return;
      this.emit("disconnected", reason.message);
      if (this.shouldReconnect()) this.startReconnecting(url);
    });
    this.emit("connected");
  }

  private async createServiceProxy(name: string): Promise<RemoteObject> {
    const info = await this.serviceInfo(name);
    const conn = await this.connectionFor(info);
    const proxy = await fetchProxy(conn, info.serviceId);
    this.serviceConnectionsByName.set(name, conn);
    return proxy;
  }

  /** libqi's endpoint choice (spec §6.4). */
  private async connectionFor(info: ServiceInfo): Promise<Connection> {
    const sdConn = this.sdConnection!;
    for (const ep of info.endpoints) {
      if (ep === "qi:ServiceDirectory") return sdConn;
    }
    // `qi:X`: reachable where service X is (spec §6.4): reuse the connection we already have
    // to X (never wait for one being opened: two services may name each other).
    for (const ep of info.endpoints) {
      if (!ep.startsWith("qi:")) continue;
      const conn = this.serviceConnectionsByName.get(ep.slice(3));
      if (conn && !conn.isClosed) return conn;
    }
    for (const ep of info.endpoints) {
      const open = this.connections.get(ep);
      if (open) return open;
    }
    const local = info.machineId === this.machineId;
    const connectable = info.endpoints.filter((e) => /^(tcp|tcps|tcpsm|ws|wss):\/\//.test(e));
    const loopback = connectable.filter((e) => isLoopbackUrl(e));
    const candidates =
      local && loopback.length > 0 ? loopback : connectable.filter((e) => local || !isLoopbackUrl(e));
    if (candidates.length === 0) {
      // A service published without usable endpoints may still be reachable over the SD connection.
      if (info.endpoints.length === 0 || info.endpoints.every((e) => e.startsWith("qi:"))) return sdConn;
      throw new QiError(
        "ERR_NO_SUCH_SERVICE",
        `Could not connect to service #${info.serviceId}: no usable endpoint in ${info.endpoints.join(", ")}`,
      );
    }
    try {
      // All at once, the first that answers wins; the others, opened for this only, are closed.
      const fresh = new Set(candidates.filter((ep) => !this.connections.has(ep)));
      const attempts = candidates.map((ep) => this.openConnection(ep));
      const winner = await Promise.any(attempts);
      attempts.forEach((attempt, i) => {
        if (!fresh.has(candidates[i])) return;
        attempt.then(
          (conn) => {
            if (conn !== winner) conn.close();
          },
          () => {},
        );
      });
      return winner;
    } catch (e) {
      throw new QiError(
        "ERR_NO_SUCH_SERVICE",
        `Could not connect to service #${info.serviceId}: no endpoint replied.`,
        { cause: e },
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
  const meta = decodeMetaObject(reply.payload);
  const proxy = new RemoteObject(peer, serviceId, MAIN_OBJECT_ID, meta);
  peer.adoptProxy(proxy);
  return proxy;
}

function normalizeConnectUrl(url: string): string {
  return formatUrl(parseUrl(url, CONNECT_DEFAULTS));
}

function normalizeListenUrl(url: string): string {
  return formatUrl(parseUrl(url, LISTEN_DEFAULTS));
}

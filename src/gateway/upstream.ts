/**
 * The gateway's side of the internal network: one Session attached to the Service Directory
 * (re-attached with backoff when it goes away), the list of ready services, the connection
 * each service is reached through, and the MetaObjects needed to read payloads.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { ClientAuthenticator } from "../connection/index.js";
import type { Connection } from "../connection/index.js";
import { errorText } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import type { Dispatcher } from "../dispatch/index.js";
import type { RequestForwarder } from "../object/index.js";
import { Session } from "../session/index.js";
import { SERVICE_DIRECTORY_NAME } from "../session/index.js";
import type { ServiceInfo } from "../session/index.js";
import type { ClientTlsOptions } from "../transport/index.js";
import { encode } from "../wire/index.js";
import { decodeMetaObject } from "../wire/index.js";
import type { MetaObject } from "../wire/index.js";

export interface UpstreamOptions {
  url: string;
  authenticator?: ClientAuthenticator;
  tls?: ClientTlsOptions;
  dispatcher: Dispatcher;
  logger: Logger;
  /** First retry delay after losing the directory; doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called for every outgoing connection (to install the gateway's request handler). */
  onConnection: (conn: Connection) => void;
}

export interface UpstreamEvents {
  attached: [];
  detached: [reason: string];
  serviceAdded: [info: ServiceInfo];
  serviceRemoved: [info: ServiceInfo];
}

export class Upstream extends EventEmitter<UpstreamEvents> {
  private session: Session | undefined;
  private readonly services = new Map<number, ServiceInfo>();
  private readonly serviceConnections = new Map<number, Promise<Connection>>();
  /** The same, once open: the router's fast path needs no promise for a known service. */
  private readonly openConnections = new Map<number, Connection>();
  private readonly metaObjects = new WeakMap<Connection, Map<string, Promise<MetaObject>>>();
  private readonly knownMetaObjects = new WeakMap<Connection, Map<string, MetaObject>>();
  private readonly seenConnections = new WeakSet<Connection>();
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs: number;
  private attaching: Promise<void> | undefined;

  constructor(private readonly options: UpstreamOptions) {
    super();
    this.backoffMs = options.initialBackoffMs ?? 200;
  }

  get isAttached(): boolean {
    return this.session?.isConnected ?? false;
  }

  /** Attaches once; rejects if the directory cannot be reached now (the caller may retry). */
  attach(): Promise<void> {
    if (!this.attaching) {
      this.attaching = this.attachOnce().finally(() => {
        this.attaching = undefined;
      });
    }
    return this.attaching;
  }

  /** Attaches, retrying with backoff until it works or the gateway closes. */
  attachWithRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.attach().catch((e) => {
      if (this.closed) return;
      this.options.logger.warn(
        { err: errorText(e), retryInMs: this.backoffMs },
        "service directory unreachable",
      );
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.attachWithRetry();
      }, this.backoffMs);
      this.retryTimer.unref?.();
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5_000);
    });
  }

  listServices(): ServiceInfo[] {
    return [...this.services.values()].sort((a, b) => a.serviceId - b.serviceId);
  }

  serviceById(id: number): ServiceInfo | undefined {
    return this.services.get(id);
  }

  serviceByName(name: string): ServiceInfo | undefined {
    for (const info of this.services.values()) if (info.name === name) return info;
    return undefined;
  }

  /**
   * A service by name, asking the Service Directory when it is not known here yet: a client
   * may ask for a service right after it registered, before its serviceRegistered event (and
   * the info read after it) reached the gateway. What is found is added and announced once.
   */
  async lookupService(name: string): Promise<ServiceInfo | undefined> {
    const known = this.serviceByName(name);
    if (known) return known;
    const session = this.session;
    if (!session) return undefined;
    let info: ServiceInfo;
    try {
      info = await session.serviceInfo(name);
    } catch {
      return undefined;
    }
    if (this.session !== session) return undefined;
    if (!this.services.has(info.serviceId)) {
      this.services.set(info.serviceId, info);
      this.emit("serviceAdded", info);
    }
    return this.services.get(info.serviceId);
  }

  /** The open connection a service is reached through, if it is open already. */
  connectionNow(serviceId: number): Connection | undefined {
    const conn = this.openConnections.get(serviceId);
    return conn !== undefined && !conn.isClosed ? conn : undefined;
  }

  /** A MetaObject already fetched or learnt on this connection. */
  metaObjectNow(conn: Connection, service: number, object: number): MetaObject | undefined {
    return this.knownMetaObjects.get(conn)?.get(`${service}.${object}`);
  }

  /** The connection a service is reached through (shared by every client). */
  connectionFor(serviceId: number): Promise<Connection> {
    const existing = this.serviceConnections.get(serviceId);
    if (existing) return existing;
    const info = this.services.get(serviceId);
    const session = this.session;
    if (!info || !session)
      return Promise.reject(new QiError("ERR_NO_SUCH_SERVICE", `Service #${serviceId} is unavailable.`));
    const opening = (async () => {
      if (info.name === SERVICE_DIRECTORY_NAME) return session.directoryConnection!;
      const { connection } = await session.serviceConnection(info.name);
      return connection;
    })().then((conn) => {
      this.adopt(conn);
      if (this.serviceConnections.get(serviceId) === opening) this.openConnections.set(serviceId, conn);
      conn.onClose(() => {
        if (this.serviceConnections.get(serviceId) === opening) this.serviceConnections.delete(serviceId);
        if (this.openConnections.get(serviceId) === conn) this.openConnections.delete(serviceId);
      });
      return conn;
    });
    this.serviceConnections.set(serviceId, opening);
    opening.catch(() => {
      if (this.serviceConnections.get(serviceId) === opening) this.serviceConnections.delete(serviceId);
    });
    return opening;
  }

  /** The MetaObject of a remote object, fetched once per connection (metaObject, member 2). */
  metaObject(conn: Connection, service: number, object: number): Promise<MetaObject> {
    let perConn = this.metaObjects.get(conn);
    if (!perConn) {
      perConn = new Map();
      this.metaObjects.set(conn, perConn);
    }
    const key = `${service}.${object}`;
    let meta = perConn.get(key);
    if (!meta) {
      meta = conn.call({ service, object, action: 2 }, encode("(I)", [0])).then((m) => {
        const decoded = decodeMetaObject(m.payload);
        this.knownOn(conn).set(key, decoded);
        return decoded;
      });
      const map = perConn;
      meta.catch(() => map.delete(key));
      perConn.set(key, meta);
    }
    return meta;
  }

  private knownOn(conn: Connection): Map<string, MetaObject> {
    let known = this.knownMetaObjects.get(conn);
    if (!known) {
      known = new Map();
      this.knownMetaObjects.set(conn, known);
    }
    return known;
  }

  /** Remembers a MetaObject learnt from an object reference. */
  rememberMetaObject(conn: Connection, service: number, object: number, meta: MetaObject): void {
    let perConn = this.metaObjects.get(conn);
    if (!perConn) {
      perConn = new Map();
      this.metaObjects.set(conn, perConn);
    }
    perConn.set(`${service}.${object}`, Promise.resolve(meta));
    this.knownOn(conn).set(`${service}.${object}`, meta);
  }

  /** Registers a service of an external client (pending until serviceReady). */
  registerForwarded(name: string, forwarder: RequestForwarder): Promise<number> {
    const session = this.session;
    if (!session)
      return Promise.reject(new QiError("ERR_DISCONNECTED", "not attached to a Service Directory"));
    return session.registerService(name, forwarder, { ready: false });
  }

  serviceReady(id: number): Promise<void> {
    const session = this.session;
    if (!session)
      return Promise.reject(new QiError("ERR_DISCONNECTED", "not attached to a Service Directory"));
    return session.serviceReady(id);
  }

  async unregisterForwarded(id: number): Promise<void> {
    await this.session?.unregisterService(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  private adopt(conn: Connection): void {
    if (this.seenConnections.has(conn)) return;
    this.seenConnections.add(conn);
    this.options.onConnection(conn);
  }

  private async attachOnce(): Promise<void> {
    if (this.isAttached) return;
    const session = new Session({
      authenticator: this.options.authenticator,
      clientTls: this.options.tls,
      dispatcher: this.options.dispatcher,
      reconnect: false, // the gateway re-attaches by itself (attachOnce)
    });
    session.on("serviceRegistered", (id, name) => this.onRegistered(session, id, name));
    session.on("serviceUnregistered", (id) => this.onUnregistered(id));
    session.on("disconnected", (reason) => this.onDetached(session, reason));
    try {
      await session.connect(this.options.url);
      this.session = session;
      this.adopt(session.directoryConnection!);
      for (const info of await session.services()) this.services.set(info.serviceId, info);
    } catch (e) {
      this.session = undefined;
      this.services.clear();
      await session.close();
      throw e;
    }
    this.backoffMs = this.options.initialBackoffMs ?? 200;
    this.options.logger.info(
      { url: this.options.url, services: this.services.size },
      "attached to service directory",
    );
    this.emit("attached");
    for (const info of this.listServices()) this.emit("serviceAdded", info);
  }

  private onRegistered(session: Session, id: number, name: string): void {
    if (this.session !== session) return;
    session.serviceInfo(name).then(
      (info) => {
        if (this.session !== session || this.services.has(id)) return;
        this.services.set(id, info);
        this.emit("serviceAdded", info);
      },
      (e) =>
        this.options.logger.warn({ service: name, err: errorText(e) }, "cannot read info of a new service"),
    );
  }

  private onUnregistered(id: number): void {
    const info = this.services.get(id);
    if (!info) return;
    this.services.delete(id);
    this.serviceConnections.delete(id);
    this.openConnections.delete(id);
    this.emit("serviceRemoved", info);
  }

  private onDetached(session: Session, reason: string): void {
    if (this.session !== session) return;
    this.session = undefined;
    const gone = this.listServices();
    this.services.clear();
    this.serviceConnections.clear();
    this.openConnections.clear();
    session.close().catch(() => {});
    this.options.logger.warn({ reason }, "lost the service directory");
    for (const info of gone.reverse()) this.emit("serviceRemoved", info);
    this.emit("detached", reason);
    this.attachWithRetry();
  }
}

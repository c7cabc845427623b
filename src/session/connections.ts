/**
 * The connections of a Session: outgoing ones shared per endpoint (the directory's and the
 * services'), incoming ones accepted on its listeners, and libqi's endpoint choice (spec §6.4).
 * Every connection serves calls both ways (ClientServerSocket): the services the session
 * hosts and the objects it passes.
 *
 * connection/ is imported file by file, not through its index: the index also carries the
 * challenge authenticator, whose HMAC (node:crypto) the browser bundle cannot load.
 */
import {
  type AuthProviderFactory,
  AuthState,
  type ClientAuthenticator,
  providerFor,
  safeEqual,
  UserTokenAuthenticator,
} from "../connection/auth.js";
import { Connection } from "../connection/connection.js";
import { QiError } from "../connection/errors.js";
import { MAIN_OBJECT_ID, PeerObjects, RemoteObject, type ServiceRegistry } from "../object/index.js";
import { type Channel, isLoopbackUrl, parseUrl } from "../transport/index.js";
import { encode } from "../wire/index.js";
import { decodeMetaObject, type MetaObject } from "../wire/index.js";
import type { ResolvedSessionOptions } from "./options.js";
import { selfClientTls } from "./self-tls.js";
import type { ServiceInfo } from "./service-info.js";

/** The user of a directory's own client connection (listenStandalone). */
const SELF_USER = "__qi_self__";

export class SessionConnections {
  /** Outgoing connections by endpoint URL (the SD's too), shared by all services behind it. */
  private readonly outgoing = new Map<string, Promise<Connection>>();
  /** Connections accepted by the session's listeners. */
  readonly incoming = new Set<Connection>();
  /** The connection each service was reached through (relative endpoints `qi:X` reuse it). */
  private readonly byService = new Map<string, Connection>();
  /** The URL of this process's own directory, reached with the self token (listenStandalone). */
  selfUrl: string | undefined;
  private readonly selfToken = crypto.randomUUID();
  private closed = false;

  constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly registry: ServiceRegistry,
  ) {}

  /** Opens (or reuses) an authenticated client connection to an endpoint. */
  open(url: string): Promise<Connection> {
    const existing = this.outgoing.get(url);
    if (existing) return existing;
    const o = this.options;
    const opening = (async () => {
      const self = this.selfUrl === url;
      const channel = await o.transport.connect(url, {
        tls: self ? await selfClientTls(o.clientTls, o.serverTls) : o.clientTls,
        timeout: o.timeoutMs,
        maxPayload: o.maxPayload,
      });
      const conn = new Connection(channel, {
        role: "client",
        authenticator: self ? this.selfAuthenticator() : o.authenticator,
        handshakeTimeoutMs: o.timeoutMs,
        maxQueuedBytes: o.maxQueuedBytes,
      });
      this.serve(conn);
      conn.onClose(() => {
        if (this.outgoing.get(url) === opening) this.outgoing.delete(url);
      });
      await conn.ready();
      return conn;
    })();
    this.outgoing.set(url, opening);
    opening.catch(() => {
      if (this.outgoing.get(url) === opening) this.outgoing.delete(url);
    });
    return opening;
  }

  /** A channel accepted by one of the session's listeners. */
  accept(channel: Channel): void {
    if (this.closed) {
      channel.close();
      return;
    }
    const o = this.options;
    const conn = new Connection(channel, {
      role: "server",
      authProvider: this.serverAuthProvider(),
      enforceAuth: o.enforceAuth,
      handshakeTimeoutMs: o.timeoutMs,
      maxPayload: o.maxPayload,
      maxQueuedBytes: o.maxQueuedBytes,
    });
    this.serve(conn);
    this.incoming.add(conn);
    conn.onClose(() => this.incoming.delete(conn));
  }

  /** Remembers which connection reached `service` (for `qi:service` endpoints of others). */
  reachedThrough(service: string, conn: Connection): void {
    this.byService.set(service, conn);
  }

  forget(service: string): void {
    this.byService.delete(service);
  }

  forgetAllServices(): void {
    this.byService.clear();
  }

  /**
   * libqi's endpoint choice (spec §6.4): the directory's connection when the service says so
   * (`qi:ServiceDirectory`, what a gateway publishes) or publishes the endpoint we reached the
   * directory at; the connection of service X for `qi:X`; a connection already open; else the
   * endpoints this transport can reach, loopback ones only for a service on this machine, all
   * at once, the first that answers wins.
   */
  async forService(info: ServiceInfo, sdConn: Connection, sdUrl: string | undefined): Promise<Connection> {
    const eps = info.endpoints;
    if (eps.includes("qi:ServiceDirectory")) return sdConn;
    if (sdUrl !== undefined && eps.some((e) => sameListener(e, sdUrl))) return sdConn;
    // `qi:X`: reuse the connection we already have to X (never wait for one being opened: two
    // services may name each other).
    for (const ep of eps) {
      if (!ep.startsWith("qi:")) continue;
      const conn = this.byService.get(ep.slice(3));
      if (conn && !conn.isClosed) return conn;
    }
    for (const ep of eps) {
      const open = this.outgoing.get(ep);
      if (open) return open;
    }
    const local = info.machineId === this.options.machineId;
    const connectable = eps.filter((e) => this.options.transport.canConnect(e));
    const loopback = connectable.filter((e) => isLoopbackUrl(e));
    const candidates =
      local && loopback.length > 0 ? loopback : connectable.filter((e) => local || !isLoopbackUrl(e));
    if (candidates.length === 0) {
      // A service published without usable endpoints may still be reachable over the SD connection.
      if (eps.length === 0 || eps.every((e) => e.startsWith("qi:"))) return sdConn;
      throw new QiError(
        "ERR_NO_SUCH_SERVICE",
        `Could not connect to service #${info.serviceId}: no usable endpoint in ${eps.join(", ")}`,
      );
    }
    try {
      // The connections opened for this only and beaten by another are closed.
      const fresh = new Set(candidates.filter((ep) => !this.outgoing.has(ep)));
      const attempts = candidates.map((ep) => this.open(ep));
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

  close(reason: QiError): void {
    this.closed = true;
    for (const p of this.outgoing.values()) p.then((c) => c.close(reason)).catch(() => {});
    this.outgoing.clear();
    for (const c of this.incoming) c.close(reason);
    this.incoming.clear();
    this.byService.clear();
  }

  private serve(conn: Connection): void {
    const o = this.options;
    PeerObjects.attach(conn, {
      registry: this.registry,
      dispatcher: o.dispatcher,
      callTimeoutMs: o.callTimeoutMs,
      maxServedCalls: o.maxServedCalls,
    });
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
}

/**
 * Same scheme, host and port: the same listener, whatever the ws path (a browser reaches a
 * gateway at `ws://host:port/qi`, which publishes `ws://host:port`).
 */
function sameListener(a: string, b: string): boolean {
  try {
    const x = parseUrl(a);
    const y = parseUrl(b);
    return x.scheme !== "qi" && x.scheme === y.scheme && x.host === y.host && x.port === y.port;
  } catch {
    return false;
  }
}

/** A service's MetaObject (metaObject(0) on its main object, spec §5.8). */
export async function fetchMetaObject(conn: Connection, serviceId: number): Promise<MetaObject> {
  const reply = await conn.call(
    { service: serviceId, object: MAIN_OBJECT_ID, action: 2 },
    encode("(I)", [0]),
  );
  return decodeMetaObject(reply.payload);
}

/** Fetches a remote object's MetaObject and builds its proxy. */
export async function fetchProxy(conn: Connection, serviceId: number): Promise<RemoteObject> {
  const peer = PeerObjects.of(conn)!;
  const proxy = new RemoteObject(peer, serviceId, MAIN_OBJECT_ID, await fetchMetaObject(conn, serviceId));
  peer.adoptProxy(proxy);
  return proxy;
}

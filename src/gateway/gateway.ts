/**
 * The Gateway: one entry point from an external network to a robot's services. It listens
 * on external URLs (authenticated by default), attaches to a Service Directory (re-attaching
 * with backoff when it goes away), shows each client a Service Directory of what it may see,
 * and forwards everything else through the router.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Logger } from "pino";
import {
  type AuthProviderOption,
  AuthState,
  type ClientAuthenticator,
  providerFor,
} from "../connection/index.js";
import { Connection } from "../connection/index.js";
import { isQiError, QiError } from "../connection/index.js";
import { Dispatcher, type DispatchMode } from "../dispatch/index.js";
import { PeerObjects } from "../object/index.js";
import { SERVICE_DIRECTORY_ID } from "../session/index.js";
import {
  type Channel,
  type ClientTlsOptions,
  DEFAULT_HIGH_WATER_MARK,
  type Listener,
  listen,
  memoryChannelPair,
  type ServerTlsOptions,
  sortEndpoints,
  type WsListenOptions,
  type WsUpgradeRoute,
  type XmppListenOptions,
} from "../transport/index.js";
import { Admission, type AdmissionLimits } from "../transport/index.js";
import { ClientLink } from "./client-link.js";
import { ConnectionRefusalLog } from "./connection-refusals.js";
import { type ResolvedGatewayOptions, resolveGatewayOptions } from "./gateway-options.js";
import { GatewayError } from "./errors.js";
import { GatewayMetrics, serveMetrics } from "./metrics.js";
import { Permissions, type PermissionsConfig } from "./permissions.js";
import { clippingLogger, RefusalLog } from "./refusal-log.js";
import { ExternalServices } from "./external-services.js";
import { Router, type RouterLimits } from "./router/index.js";
import { createSdView } from "./sd-view.js";
import { Upstream } from "./upstream.js";

export interface GatewayOptions {
  /** The Service Directory to attach to (default tcp://127.0.0.1:9559). */
  attach?: string;
  /** External URLs to listen on (tcp, tcps, tcpsm). */
  listen: string[];
  /**
   * Checks external clients. Required unless `allowAnonymous` is set: external listeners
   * are authenticated by default. One provider shared by all clients (GatewayAuthProvider: its
   * rate limiter spans connections), or a factory (a function) called once per client
   * connection, for providers with per-connection state such as a challenge's nonce.
   */
  authProvider?: AuthProviderOption;
  /** Accept clients without credentials (explicit opt-out of authentication). */
  allowAnonymous?: boolean;
  /** The gateway's own credentials toward the Service Directory and services. */
  upstreamAuthenticator?: ClientAuthenticator;
  upstreamTls?: ClientTlsOptions;
  /** TLS identity (and client CA for tcpsm) of the external listeners. */
  tls?: ServerTlsOptions;
  permissions?: PermissionsConfig;
  /**
   * Router limits, and the connection caps and accept timeout of the external listeners
   * (DEFAULT_ADMISSION_LIMITS; acceptTimeoutMs default 10 000: TCP connect to TLS handshake and
   * WebSocket upgrade done).
   */
  limits?: Partial<RouterLimits & AdmissionLimits & { acceptTimeoutMs: number }>;
  /** Largest message accepted from a client (default 50 MB). */
  maxPayload?: number;
  /** ws/wss listeners: Origin allow-list and the HTTP handler (web console) beside the upgrade. */
  ws?: WsListenOptions;
  /** xmpp:// listeners: the robot's account, allow-list and caps (docs/xmpp.md). */
  xmpp?: XmppListenOptions;
  /** Where to serve Prometheus metrics, e.g. `127.0.0.1:9100` (off when omitted; loopback unless below). */
  metricsAddress?: string;
  /** Bearer token the metrics endpoint requires (needed to listen beyond loopback). */
  metricsToken?: string;
  /** Serve metrics on a non-loopback address without a token (public metrics, a warning). */
  metricsAllowRemote?: boolean;
  machineId?: string;
  dispatch?: DispatchMode;
  logger?: Logger;
  /** Handshake timeout for external clients (ms, default 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * Let external clients register services in the internal Service Directory (default off).
   * With permissions configured, a user needs a `register` rule for the service name.
   */
  allowServiceRegistration?: boolean;
}

export interface GatewayClientInfo {
  /** The gateway's number for the client (as in its logs). */
  number: number;
  /** Who it authenticated as (undefined when anonymous). */
  user: string | undefined;
  peer: string;
  connectedAt: string;
  pendingCalls: number;
  subscriptions: number;
  objects: number;
  queuedBytes: number;
  droppedEvents: number;
}

async function authenticateWith(
  provider: AuthProviderOption | undefined,
  allowAnonymous: boolean,
  data: Map<string, unknown>,
  remoteAddress: string,
): Promise<string | undefined> {
  if (allowAnonymous && !data.has("user")) return "anonymous";
  if (!provider) return allowAnonymous ? "anonymous" : undefined;
  const ctx = { remoteAddress, peerCertificateSubject: undefined };
  // One round only (an HTTP request): a provider that answers Continue does not let it in.
  const result = await providerFor(provider, ctx).processAuth(data, ctx);
  return result.state === AuthState.Done ? (result.identity ?? "anonymous") : undefined;
}

export class Gateway {
  readonly metrics = new GatewayMetrics();
  readonly logger: Logger;
  private readonly options: GatewayOptions;
  /** The options with their defaults, resolved once (gateway-options.ts). */
  private readonly settled: ResolvedGatewayOptions;
  private readonly upstream: Upstream;
  private readonly router: Router;
  private readonly external: ExternalServices | undefined;
  private readonly permissions: Permissions;
  private readonly dispatcher: Dispatcher;
  private readonly listeners: Listener[] = [];
  private readonly machineId: string;
  private metricsServer: Server | undefined;
  private readonly refusals: RefusalLog;
  private closed = false;
  /** Connection caps shared by all external listeners, checked at the TCP accept. */
  private readonly admission: Admission;
  private readonly connectionRefusals: ConnectionRefusalLog;

  constructor(options: GatewayOptions) {
    const settled = resolveGatewayOptions(options);
    this.options = options;
    this.settled = settled;
    // Client-chosen strings are clipped in every line the gateway (and its parts) writes.
    this.logger = clippingLogger(settled.logger);
    this.refusals = new RefusalLog(this.logger);
    this.machineId = settled.machineId;
    this.dispatcher = new Dispatcher({ mode: options.dispatch });
    this.permissions = new Permissions(options.permissions);
    this.connectionRefusals = new ConnectionRefusalLog(this.logger);
    const l = settled.limits;
    this.admission = new Admission(
      {
        maxConnections: l.maxConnections,
        maxUnauthenticated: l.maxUnauthenticated,
        maxConnectionsPerAddress: l.maxConnectionsPerAddress,
        maxUnauthenticatedPerAddress: l.maxUnauthenticatedPerAddress,
      },
      {
        onRefused: (cap, address, evicted) => {
          this.metrics.refusedConnection(cap);
          this.connectionRefusals.note(cap, address, evicted);
        },
      },
    );
    this.metrics.watchConnections(this.admission);
    this.upstream = new Upstream({
      url: settled.attach,
      authenticator: options.upstreamAuthenticator,
      tls: options.upstreamTls,
      dispatcher: this.dispatcher,
      logger: this.logger,
      onConnection: (conn) => this.router.adoptUpstream(conn),
    });
    this.router = new Router(
      this.upstream,
      this.permissions,
      this.metrics,
      settled.routerLimits,
      this.logger,
    );
    this.external = options.allowServiceRegistration
      ? new ExternalServices({
          upstream: this.upstream,
          permissions: this.permissions,
          logger: this.logger,
          maxRegistrations: settled.routerLimits.maxRegistrations,
          maxNameLength: settled.routerLimits.maxNameLength,
        })
      : undefined;
    this.upstream.on("serviceAdded", (info) => {
      for (const link of this.router.clients) {
        if (this.permissions.canSee(link.identity, info.name))
          link.view.emit("serviceAdded", info.serviceId, info.name);
      }
    });
    this.upstream.on("serviceRemoved", (info) => {
      this.router.onServiceRemoved(info.serviceId, info.name);
      for (const link of this.router.clients) {
        if (this.permissions.canSee(link.identity, info.name))
          link.view.emit("serviceRemoved", info.serviceId, info.name);
      }
    });
  }

  /**
   * Listens and attaches. Listening starts first and goes on whatever happens upstream; when
   * the Service Directory is unreachable the gateway keeps retrying in the background.
   */
  async start(): Promise<void> {
    for (const url of this.options.listen) {
      const listener = await listen(
        url,
        {
          tls: this.options.tls,
          ws: { ...this.options.ws, upgradeRoutes: this.wsRoutes },
          xmpp: this.options.xmpp,
          maxPayload: this.options.maxPayload,
          // The router resumes a paused client on its channel's drain: a mark it can reach.
          highWaterMark: Math.min(DEFAULT_HIGH_WATER_MARK, this.settled.routerLimits.maxQueuedBytes),
          admission: this.admission,
          acceptTimeout: this.settled.limits.acceptTimeoutMs,
          onError: (e) => this.logger.debug({ err: e.message }, "listener error"),
        },
        (channel) => this.accept(channel),
      );
      this.listeners.push(listener);
      this.logger.info({ endpoints: listener.endpoints() }, "gateway listening");
    }
    warnIfOverFileLimit(this.admission.limits.maxConnections, this.logger);
    if (this.options.metricsAddress) {
      this.metricsServer = await serveMetrics(this.metrics, {
        address: this.options.metricsAddress,
        token: this.options.metricsToken,
        allowRemote: this.options.metricsAllowRemote,
        logger: this.logger,
      });
      this.logger.info({ url: this.metricsUrl() }, "metrics listening");
    }
    try {
      await this.upstream.attach();
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, "service directory not reachable yet; retrying");
      this.upstream.attachWithRetry();
    }
  }

  /** Resolves once attached to the Service Directory (for tests and start-up ordering). */
  async waitAttached(timeoutMs = 10_000): Promise<void> {
    if (this.upstream.isAttached) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new QiError("ERR_TIMEOUT", `gateway not attached in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.upstream.once("attached", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  get isAttached(): boolean {
    return this.upstream.isAttached;
  }

  endpoints(): string[] {
    return sortEndpoints(this.listeners.flatMap((l) => l.endpoints()));
  }

  /** The ws listeners' upgrade routes (WsListenOptions.upgradeRoutes): a web bridge mounts a path here. */
  private readonly wsRoutes = new Map<string, WsUpgradeRoute>();

  /** Hands WebSocket upgrades on `path` of the gateway's ws/wss listeners to `route`; returns the undo. */
  routeWebSocket(path: string, route: WsUpgradeRoute): () => void {
    if (path === "/" || this.wsRoutes.has(path))
      throw new GatewayError("ERR_BAD_OPTIONS", `the gateway's WebSocket path ${path} is taken`);
    this.wsRoutes.set(path, route);
    return () => this.wsRoutes.delete(path);
  }

  /** The metrics endpoint URL, when enabled. */
  metricsUrl(): string | undefined {
    const addr = this.metricsServer?.address();
    if (!addr || typeof addr === "string") return undefined;
    return `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`;
  }

  /** One row per connected external client, for an operator's view (web console, logs). */
  clients(): GatewayClientInfo[] {
    return [...this.router.clients]
      .filter((link) => link.conn.isReady)
      .map((link) => ({
        number: link.number,
        user: link.identity,
        peer: link.conn.peer,
        connectedAt: new Date(link.connectedAt).toISOString(),
        pendingCalls: link.inflight.size,
        subscriptions: link.subscriptions.size,
        objects: link.objects.size,
        queuedBytes: link.conn.channel.bufferedBytes,
        droppedEvents: link.droppedEvents,
      }));
  }

  /**
   * May this authenticated user see every client's row (statistics)? See Permissions.isAdmin;
   * never the shared identity of anonymous clients.
   */
  isAdmin(identity: string | undefined): boolean {
    if (this.options.allowAnonymous && identity === "anonymous") return false;
    return this.permissions.isAdmin(identity);
  }

  /** Checks credentials as an external listener would (for HTTP pages beside a ws listener). */
  authenticate(data: Map<string, unknown>, remoteAddress: string): Promise<string | undefined> {
    return authenticateWith(this.options.authProvider, this.settled.allowAnonymous, data, remoteAddress);
  }

  stats() {
    return {
      ...this.router.stats(),
      droppedEvents: this.metrics.droppedTotal,
      attached: this.upstream.isAttached,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.listeners.splice(0).map((l) => l.close().catch(() => {})));
    for (const link of [...this.router.clients]) link.conn.close();
    await this.upstream.close();
    await new Promise<void>((r) => (this.metricsServer ? this.metricsServer.close(() => r()) : r()));
    await this.dispatcher.close();
    this.refusals.close();
    this.connectionRefusals.close();
  }

  /**
   * Serves an outside client that reached the gateway by a way of its own (a channel per remote
   * peer of an XMPP or NATS entry): the same handshake, authentication, permissions and limits
   * as a client of the gateway's listeners. The entry applies its own admission caps.
   */
  acceptChannel(channel: Channel): void {
    this.accept(channel);
  }

  /**
   * A client channel from inside this process (a bridge to another framework): it logs in as
   * `identity` without a token, and the gateway's permissions for that user bound what it
   * sees and does, as for any outside client. Only code in this process can pick the identity,
   * so nothing outside can reach this path.
   */
  connectInProcess(identity: string): Channel {
    const [client, server] = memoryChannelPair({
      names: [`inproc://${identity}`, "inproc://gateway"],
      maxPayload: this.options.maxPayload,
    });
    this.accept(server, { processAuth: () => ({ state: AuthState.Done, identity }) });
    return client;
  }

  private accept(channel: Channel, authProvider?: AuthProviderOption): void {
    if (this.closed) {
      channel.close();
      return;
    }
    const conn = new Connection(channel, {
      role: "server",
      authProvider: authProvider ?? this.options.authProvider,
      enforceAuth: !this.options.allowAnonymous || authProvider !== undefined,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      maxPayload: this.options.maxPayload,
    });
    let link: ClientLink | undefined;
    const external = this.external;
    const view = createSdView({
      conn,
      machineId: this.machineId,
      endpoints: () => this.endpoints(),
      services: () => this.upstream.listServices(),
      lookup: (name) => this.upstream.lookupService(name),
      canSee: (name) => this.permissions.canSee(conn.identity, name),
      maxNameLength: this.settled.routerLimits.maxNameLength,
      registration: external && {
        register: (info) => external.register(link!, info),
        ready: (id) => external.ready(link!, id),
        unregister: (id) => external.unregister(link!, id),
        owns: (id) => external.owns(link!, id),
      },
    });
    PeerObjects.attach(conn, {
      dispatcher: this.dispatcher,
      registry: { mainObject: (id) => (id === SERVICE_DIRECTORY_ID ? view : undefined) },
    });
    link = new ClientLink(conn, view);
    const client = link;
    const peer = channel.remoteUrl;
    // Route from the start: the connection dispatches nothing before the handshake is done.
    this.router.addClient(client);
    let counted = false;
    conn.onClose((reason) => {
      this.router.removeClient(client);
      external?.releaseAll(client);
      if (!counted) return;
      this.metrics.clientDisconnected();
      this.logger.info(
        { client: client.number, peer, reason: reason.message, droppedEvents: client.droppedEvents },
        "client disconnected",
      );
    });
    conn.ready().then(
      () => {
        counted = true;
        channel.admission?.authenticate();
        this.metrics.clientConnected();
        this.logger.info({ client: client.number, peer, user: conn.identity }, "client connected");
      },
      (e: Error) => {
        if (isQiError(e, "QI_ERR_AUTH")) this.metrics.authFailed();
        // Closed by a connection cap: counted and logged once per interval (ConnectionRefusalLog).
        if (channel.admission?.evicted) return;
        // The peer is logged on its own: with its port in the reason, no two would be alike.
        this.refusals.refused(channel.remoteAddress, e.message.replaceAll(peer, "client"), { peer });
      },
    );
  }
}

/**
 * Each connection costs a file descriptor: caps above the process's limit would let a flood
 * exhaust descriptors (and every login fail with EMFILE) before a cap is ever reached.
 */
function warnIfOverFileLimit(maxConnections: number, logger: Logger): void {
  let soft: number;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (!m || m[1] === "unlimited") return;
    soft = Number(m[1]);
  } catch {
    return; // not Linux: nothing cheap to read
  }
  // Upstream connections, listeners, logs and the metrics server need descriptors too.
  const reserve = 64;
  if (maxConnections + reserve > soft) {
    logger.warn(
      { maxConnections, openFilesLimit: soft },
      `limits.maxConnections (${maxConnections}) is above the process's open-file limit (${soft}) minus ${reserve}: raise the limit (ulimit -n, LimitNOFILE=) or lower maxConnections`,
    );
  }
}

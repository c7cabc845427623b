/**
 * Session options, resolved once (defaults and validation here, nowhere else in session/):
 * the rest of the layer reads a ResolvedSessionOptions and never writes `?? literal`. Limits
 * owned by lower layers (handshake and queue caps of connection/, served-call caps of object/)
 * are passed through untouched, so each layer keeps the one place of its own defaults.
 */
// connection/ file by file: its index carries the challenge authenticator (node:crypto's HMAC).
import {
  type AuthProviderOption,
  type ClientAuthenticator,
  UserTokenAuthenticator,
} from "../connection/auth.js";
import { Dispatcher, type DispatchMode } from "../dispatch/index.js";
import {
  type ClientTlsOptions,
  type ServerTlsOptions,
  schemeTransport,
  type TransportFactory,
} from "../transport/index.js";
import { machineId as defaultMachineId } from "./machine-id.js";
import type { BackoffPolicy } from "./reconnect.js";

/** libqi's Service Directory port on this machine (what `qi` and Python's qi.Session use). */
export const DEFAULT_CONNECT_URL = "tcp://127.0.0.1:9559";
/** Where a host of services listens when it was not told: loopback, an ephemeral port. */
export const DEFAULT_LISTEN_URL = "tcp://127.0.0.1:0";
/** Where listenStandalone listens when it was not told (libqi's default too). */
export const DEFAULT_STANDALONE_URL = "tcp://127.0.0.1:9559";
/** How long waitForService waits by default (ms). */
export const DEFAULT_WAIT_FOR_SERVICE_MS = 30_000;

export interface SessionOptions {
  /** Credentials for the Service Directory and every service connection. */
  authenticator?: ClientAuthenticator;
  /** Shorthand for `authenticator: new UserTokenAuthenticator(user, token)` (ignored with one). */
  user?: string;
  token?: string;
  /**
   * Checks clients that connect to this session's listeners; default: accept everyone. One
   * provider shared by all connections, or a factory (a function) called once per incoming
   * connection, for providers with per-connection state such as a challenge's nonce.
   */
  authProvider?: AuthProviderOption;
  /** Refuse clients that skip authentication (default false, lenient like libqi). */
  enforceAuth?: boolean;
  /** TLS for outgoing tcps/tcpsm/wss connections (verification is on by default). */
  clientTls?: ClientTlsOptions;
  /** TLS identity for tcps/tcpsm/wss listeners. */
  serverTls?: ServerTlsOptions;
  /**
   * Where channels come from (connect, and listen for hosts). Default: the scheme registry of
   * transport/ (tcp, tcps, tcpsm, ws, wss on Node; ws, wss in the browser bundle).
   */
  transport?: TransportFactory;
  /**
   * URL of connect() without an argument. Default: in a web page, the page's own
   * `ws(s)://host/qi`; elsewhere libqi's `tcp://127.0.0.1:9559`.
   */
  defaultUrl?: string;
  /** Dispatch policy for methods served by this session (default: QI_DISPATCH or async). */
  dispatch?: DispatchMode;
  dispatcher?: Dispatcher;
  /** Override the machine id (default: libqi's file on Node, spec §6.5; one per page in a browser). */
  machineId?: string;
  /** Connect/handshake timeout in ms (default: the transport's and the connection's, 10 s). */
  timeoutMs?: number;
  /** Largest payload accepted from peers (default: the wire's, 50 MB). */
  maxPayload?: number;
  /** Per-call timeout for methods this session serves. */
  callTimeoutMs?: number;
  /** Calls of one peer that may run here at once (default: the object layer's, 10,000). */
  maxServedCalls?: number;
  /** Answers and events queued toward a peer above which it is disconnected (default 128 MiB). */
  maxQueuedBytes?: number;
  /**
   * Reconnection after losing the Service Directory (or gateway), on by default (true or
   * omitted: the backoff of reconnect.ts; a BackoffPolicy to tune it; false: off, and
   * "disconnected" is the end of the session's directory connection). Once back (events
   * "reconnecting", "reconnected"): hosted services are registered again
   * ("servicesRegisteredAgain"), the service proxies the app holds are rebound and their
   * signals and property watches registered again; calls in flight and objects passed by
   * reference fail with ERR_DISCONNECTED, saying so. docs/resilience.md.
   */
  reconnect?: boolean | BackoffPolicy;
}

export interface ResolvedSessionOptions
  extends Omit<
    SessionOptions,
    "user" | "token" | "transport" | "defaultUrl" | "dispatcher" | "machineId" | "reconnect"
  > {
  transport: TransportFactory;
  defaultUrl: string;
  dispatcher: Dispatcher;
  /** The session made its dispatcher (and closes it with itself). */
  ownsDispatcher: boolean;
  machineId: string;
  /** undefined: no reconnection. */
  reconnect: BackoffPolicy | undefined;
}

function checkMs(name: string, v: number | undefined): void {
  if (v !== undefined && !(typeof v === "number" && v >= 0))
    throw new RangeError(`SessionOptions.${name} must be a number of ms ≥ 0 (got ${v})`);
}

function checkCount(name: string, v: number | undefined): void {
  if (v !== undefined && !(typeof v === "number" && v > 0))
    throw new RangeError(`SessionOptions.${name} must be a positive number (got ${v})`);
}

/** The qi endpoint of the page this code runs in (`ws(s)://<host>/qi`), if it runs in one. */
export function pageEndpoint(): string | undefined {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc || !/^https?:$/.test(loc.protocol)) return undefined;
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/qi`;
}

export function resolveSessionOptions(options: SessionOptions = {}): ResolvedSessionOptions {
  checkMs("timeoutMs", options.timeoutMs);
  checkMs("callTimeoutMs", options.callTimeoutMs);
  checkCount("maxPayload", options.maxPayload);
  checkCount("maxServedCalls", options.maxServedCalls);
  checkCount("maxQueuedBytes", options.maxQueuedBytes);
  const { user, token, transport, defaultUrl, dispatcher, machineId, reconnect, ...rest } = options;
  const credentials = user !== undefined || token !== undefined;
  return {
    ...rest,
    authenticator:
      rest.authenticator ?? (credentials ? new UserTokenAuthenticator(user ?? "", token ?? "") : undefined),
    transport: transport ?? schemeTransport,
    defaultUrl: defaultUrl ?? pageEndpoint() ?? DEFAULT_CONNECT_URL,
    dispatcher: dispatcher ?? new Dispatcher({ mode: options.dispatch }),
    ownsDispatcher: dispatcher === undefined,
    machineId: machineId ?? defaultMachineId(),
    reconnect:
      reconnect === false ? undefined : reconnect === true || reconnect === undefined ? {} : reconnect,
  };
}

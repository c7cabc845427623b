/**
 * The options of one connection, resolved once: every default and every check of this layer is
 * here, and the parts of a connection read the resolved values only (no `?? default` where a
 * value is used).
 */
import { DEFAULT_MAX_PAYLOAD } from "../wire/index.js";
import {
  type AuthProviderOption,
  type ClientAuthenticator,
  DEFAULT_MAX_AUTH_ROUNDS,
  nullAuthProvider,
} from "./auth.js";
import { type CapabilityMap, DEFAULT_CAPABILITIES } from "./capabilities.js";

export interface ConnectionOptions {
  role: "client" | "server";
  capabilities?: CapabilityMap;
  /** Client: credentials for the handshake. */
  authenticator?: ClientAuthenticator;
  /**
   * Server: checks credentials; default accepts everyone. One provider shared by all
   * connections, or a factory (a function) called once for this connection (AuthProviderOption).
   */
  authProvider?: AuthProviderOption;
  /**
   * Both: authenticate calls accepted (server) or sent (client) in one handshake; a peer that
   * still answers Continue after that many is refused. Default 10 (DEFAULT_MAX_AUTH_ROUNDS).
   */
  maxAuthRounds?: number;
  /** Server: a peer that skips authentication is refused instead of accepted (spec §5.1). */
  enforceAuth?: boolean;
  /** Both: how long the handshake may take. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Calls of ours that may wait for an answer at once. Default 10,000. */
  maxPendingCalls?: number;
  /** Largest payload accepted once the handshake is done (default 50 MB, spec §1.7). */
  maxPayload?: number;
  /**
   * Bytes of answers and events queued toward the peer above which it is disconnected: a peer
   * that pipelines calls (or subscribes) and never reads must not grow our memory without
   * bound. Default 128 MiB. Calls of our own are not checked (their caller waits anyway).
   */
  maxQueuedBytes?: number;
  /**
   * Calls received and not yet answered above which new ones are refused with an Error.
   * Default 100,000 (DEFAULT_MAX_INCOMING_CALLS).
   */
  maxIncomingCalls?: number;
}

/** ConnectionOptions with every default filled in and every value checked. */
export interface ResolvedConnectionOptions {
  readonly role: "client" | "server";
  readonly capabilities: ReadonlyMap<string, unknown>;
  readonly authenticator: ClientAuthenticator | undefined;
  readonly authProvider: AuthProviderOption;
  readonly maxAuthRounds: number;
  readonly enforceAuth: boolean;
  readonly handshakeTimeoutMs: number;
  readonly maxPendingCalls: number;
  readonly maxPayload: number;
  readonly maxQueuedBytes: number;
  readonly maxIncomingCalls: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING_CALLS = 10_000;
export const DEFAULT_MAX_QUEUED_BYTES = 128 * 1024 * 1024;

/**
 * Calls of the peer's that may be in progress at once on one connection (not yet answered),
 * whatever layer serves them: a backstop under the object layer's and the gateway's own limits.
 */
export const DEFAULT_MAX_INCOMING_CALLS = 100_000;

/**
 * Bytes of messages held while a server-side auth provider decides (e.g. scrypt): a client that
 * keeps sending meanwhile is refused rather than buffered without bound.
 */
export const MAX_HELD_BYTES = 256 * 1024;

/**
 * Server side, before authentication a peer may only send handshake-sized messages, so an
 * anonymous client cannot make us allocate `maxPayload` bytes per connection.
 */
export const HANDSHAKE_MAX_PAYLOAD = 64 * 1024;

/** The largest payload a qi header can announce (its size field is a u32, spec §1.1). */
const MAX_WIRE_PAYLOAD = 0xffffffff;

/**
 * Fills in the defaults and checks every value; throws a RangeError (a programming error, not a
 * peer's) for a value that makes no sense, naming the option.
 */
export function resolveConnectionOptions(options: ConnectionOptions): ResolvedConnectionOptions {
  if (options.role !== "client" && options.role !== "server")
    throw new RangeError(`connection option role must be "client" or "server", not ${String(options.role)}`);
  return {
    role: options.role,
    capabilities: options.capabilities ?? DEFAULT_CAPABILITIES,
    authenticator: options.authenticator,
    authProvider: options.authProvider ?? nullAuthProvider,
    maxAuthRounds: count("maxAuthRounds", options.maxAuthRounds, DEFAULT_MAX_AUTH_ROUNDS),
    enforceAuth: options.enforceAuth ?? false,
    handshakeTimeoutMs: positive(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ),
    maxPendingCalls: count("maxPendingCalls", options.maxPendingCalls, DEFAULT_MAX_PENDING_CALLS),
    maxPayload: Math.min(count("maxPayload", options.maxPayload, DEFAULT_MAX_PAYLOAD), MAX_WIRE_PAYLOAD),
    maxQueuedBytes: count("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
    maxIncomingCalls: count("maxIncomingCalls", options.maxIncomingCalls, DEFAULT_MAX_INCOMING_CALLS),
  };
}

/** A whole number ≥ 1, or the default when absent. */
function count(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`connection option ${name} must be a whole number ≥ 1, not ${value}`);
  return value;
}

/** A finite number > 0, or the default when absent. */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`connection option ${name} must be a number > 0, not ${value}`);
  return value;
}

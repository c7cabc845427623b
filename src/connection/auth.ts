/**
 * Authentication (spec §5.1). The client sends its data with keys prefixed `auth_`; the
 * server's provider answers with `__qi_auth_state` (1 Error, 2 Continue, 3 Done).
 */
import { timingSafeEqual } from "node:crypto";

export const AuthState = { Error: 1, Continue: 2, Done: 3 } as const;
export type AuthState = (typeof AuthState)[keyof typeof AuthState];

export const AUTH_STATE_KEY = "__qi_auth_state";
export const AUTH_ERROR_REASON_KEY = "__qi_auth_err_reason";
export const AUTH_PREFIX = "auth_";

export type AuthData = Map<string, unknown>;

/**
 * Client side: produces the data of the first authenticate call, and answers the Continue
 * rounds of multi-round providers: processAuth gets the server's data (without the `auth_`
 * prefix) and returns the next round's. Without processAuth, a Continue fails the handshake.
 */
export interface ClientAuthenticator {
  initialAuthData(): AuthData;
  processAuth?(serverData: AuthData): AuthData;
}

export interface AuthResult {
  state: AuthState;
  /** Extra keys for the reply (sent prefixed with `auth_`). */
  data?: AuthData;
  /** Why it failed, for the Error reply. */
  reason?: string;
  /** Who the peer is, once Done (used by the gateway for permissions). */
  identity?: string;
}

export interface AuthContext {
  remoteAddress: string;
  /** Subject of the client certificate on mutual TLS connections. */
  peerCertificateSubject?: string;
}

/**
 * Server side: answers each authenticate call of a connection. A provider that answers
 * Continue is called again with the client's next round, until it says Done or Error.
 */
export interface AuthProvider {
  processAuth(clientData: AuthData, ctx: AuthContext): AuthResult | Promise<AuthResult>;
}

/**
 * Makes the provider of one incoming connection (libqi's AuthProviderFactory), called once per
 * connection at its first authenticate call: what a multi-round provider needs to keep state of
 * its own, such as the nonce of a challenge, without sharing it with other connections.
 */
export type AuthProviderFactory = (ctx: AuthContext) => AuthProvider;

/**
 * What servers accept as `authProvider`: either one AuthProvider shared by every connection
 * (state across connections, e.g. a rate limiter), or an AuthProviderFactory (a function) that
 * makes a fresh provider per connection (state within one connection, e.g. a nonce).
 */
export type AuthProviderOption = AuthProvider | AuthProviderFactory;

/** The provider for one connection: the shared one, or a new one from the factory. */
export function providerFor(option: AuthProviderOption, ctx: AuthContext): AuthProvider {
  return typeof option === "function" ? option(ctx) : option;
}

/**
 * Authenticate calls one connection may make, server side, or send, client side: a peer that
 * keeps answering Continue must not keep the other busy until the handshake timeout.
 */
export const DEFAULT_MAX_AUTH_ROUNDS = 10;

/** Accepts everyone at once (the libqi default for plain sessions). */
export const nullAuthProvider: AuthProvider = {
  processAuth: () => ({ state: AuthState.Done }),
};

export class UserTokenAuthenticator implements ClientAuthenticator {
  constructor(
    private readonly user: string,
    private readonly token: string,
  ) {}
  initialAuthData(): AuthData {
    return new Map([
      ["user", this.user],
      ["token", this.token],
    ]);
  }
}

/** Checks `user`/`token` against a fixed table (constant-time comparison). */
export class UserTokenAuthProvider implements AuthProvider {
  constructor(private readonly check: (user: string, token: string) => boolean) {}

  static fromTable(table: Record<string, string>): UserTokenAuthProvider {
    return new UserTokenAuthProvider((user, token) => {
      const expected = Object.hasOwn(table, user) ? table[user] : undefined;
      return expected !== undefined && safeEqual(expected, token);
    });
  }

  processAuth(data: AuthData): AuthResult {
    const user = data.get("user");
    const token = data.get("token");
    if (typeof user !== "string" || typeof token !== "string") {
      return { state: AuthState.Error, reason: "missing user or token" };
    }
    if (!this.check(user, token)) return { state: AuthState.Error, reason: "invalid user or token" };
    return { state: AuthState.Done, identity: user };
  }
}

export function safeEqual(a: string, b: string): boolean {
  const ba = new TextEncoder().encode(a);
  const bb = new TextEncoder().encode(b);
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
}

/** Adds `auth_` to every key except the `__qi_auth_` ones (spec §5.1). */
export function prefixAuthKeys(data: AuthData): AuthData {
  const out: AuthData = new Map();
  for (const [k, v] of data) out.set(k.startsWith("__qi_auth_") ? k : AUTH_PREFIX + k, v);
  return out;
}

/** Keeps the `auth_` keys without their prefix, and the `__qi_auth_` keys as they are. */
export function unprefixAuthKeys(map: Map<string, unknown>): AuthData {
  const out: AuthData = new Map();
  for (const [k, v] of map) {
    if (k.startsWith(AUTH_PREFIX)) out.set(k.slice(AUTH_PREFIX.length), v);
    else if (k.startsWith("__qi_auth_")) out.set(k, v);
  }
  return out;
}

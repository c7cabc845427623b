/**
 * A two-round challenge–response over the Continue path of spec §5.1, with per-user shared
 * secrets that never cross the wire:
 *
 *   1. client → `auth_method` = "hmac-sha256", `auth_user`
 *   2. server → state Continue, `auth_nonce` (32 random bytes, hex, new for every connection)
 *   3. client → `auth_response` = hex HMAC-SHA256(secret of user, nonce)
 *   4. server → state Done (identity = user), or an Error
 *
 * The nonce lives in the provider, so the server needs one provider per connection: give it
 * `ChallengeAuthProvider.factory(secrets)` as `authProvider`, not a single instance. As with
 * any plain challenge–response, a server the client trusts by mistake could relay another
 * server's nonce: use it over tcps, whose certificate check tells the client who it talks to.
 */
import { createHmac, randomBytes } from "node:crypto";
import {
  type AuthData,
  type AuthProvider,
  type AuthProviderFactory,
  type AuthResult,
  AuthState,
  type ClientAuthenticator,
  safeEqual,
} from "./auth.js";

export const CHALLENGE_METHOD = "hmac-sha256";
const NONCE_BYTES = 32;
const NONCE_PATTERN = /^[0-9a-f]{64}$/;
/** What unknown users are checked against, so that they cost what known ones do. */
const UNKNOWN_USER_SECRET = randomBytes(32).toString("hex");

/** user → shared secret. */
export type ChallengeSecrets = Record<string, string>;

/** hex HMAC-SHA256 of the nonce with the secret: what both sides compute. */
export function challengeResponse(secret: string, nonce: string): string {
  return createHmac("sha256", secret).update(nonce).digest("hex");
}

/**
 * Server side, one instance per connection (it holds that connection's nonce). An instance
 * serves one challenge only: shared by mistake between connections, it refuses the second one
 * instead of handing the same nonce out twice.
 */
export class ChallengeAuthProvider implements AuthProvider {
  /** This connection's nonce (hex), made when the provider is. */
  readonly nonce = randomBytes(NONCE_BYTES).toString("hex");
  private user: string | undefined;
  private step: "expect-hello" | "expect-response" | "spent" = "expect-hello";

  constructor(private readonly secrets: ChallengeSecrets) {}

  /** What servers take as `authProvider`: a fresh provider, and nonce, per connection. */
  static factory(secrets: ChallengeSecrets): AuthProviderFactory {
    return () => new ChallengeAuthProvider(secrets);
  }

  processAuth(data: AuthData): AuthResult {
    if (this.step === "expect-hello") return this.challenge(data);
    if (this.step === "expect-response") return this.check(data);
    return { state: AuthState.Error, reason: "this challenge was already used" };
  }

  private challenge(data: AuthData): AuthResult {
    const method = data.get("method");
    const user = data.get("user");
    if (method !== CHALLENGE_METHOD) {
      this.step = "spent";
      return { state: AuthState.Error, reason: `unsupported auth method (expected ${CHALLENGE_METHOD})` };
    }
    if (typeof user !== "string") {
      this.step = "spent";
      return { state: AuthState.Error, reason: "missing user" };
    }
    this.user = user;
    this.step = "expect-response";
    // Unknown users get a challenge too, so the answer does not tell which users exist.
    return { state: AuthState.Continue, data: new Map([["nonce", this.nonce]]) };
  }

  private check(data: AuthData): AuthResult {
    this.step = "spent";
    const user = this.user as string;
    const response = data.get("response");
    if (typeof response !== "string") return { state: AuthState.Error, reason: "missing challenge response" };
    const secret = Object.hasOwn(this.secrets, user) ? this.secrets[user] : undefined;
    const expected = challengeResponse(secret ?? UNKNOWN_USER_SECRET, this.nonce);
    if (!safeEqual(expected, response) || secret === undefined)
      return { state: AuthState.Error, reason: "invalid user or challenge response" };
    return { state: AuthState.Done, identity: user };
  }
}

/** Client side: answers the server's nonce with the HMAC of the user's secret. */
export class ChallengeAuthenticator implements ClientAuthenticator {
  constructor(
    private readonly user: string,
    private readonly secret: string,
  ) {}

  initialAuthData(): AuthData {
    return new Map([
      ["method", CHALLENGE_METHOD],
      ["user", this.user],
    ]);
  }

  processAuth(serverData: AuthData): AuthData {
    const nonce = serverData.get("nonce");
    // Sign nonces only: a server cannot make us compute the HMAC of text of its choosing.
    if (typeof nonce !== "string" || !NONCE_PATTERN.test(nonce))
      throw new Error("the server's challenge carries no valid nonce");
    return new Map([["response", challengeResponse(this.secret, nonce)]]);
  }
}

/**
 * Gateway credentials: users with *hashed* tokens (scrypt, salted), checked in constant time,
 * with attempts rate-limited per user, per address and per pair (see login-limiter.ts).
 */
import { createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import {
  type AuthContext,
  type AuthData,
  type AuthProvider,
  type AuthResult,
  AuthState,
} from "../connection/index.js";
import { type LoginLimitOptions, LoginLimiter } from "./login-limiter.js";

const SCRYPT_N = 16384;
const KEY_LENGTH = 32;
let dummyHash: string | undefined;
/** A hash to check unknown users against (made once, on first use). */
function dummy(): string {
  dummyHash ??= hashToken("not a real token", Buffer.alloc(16));
  return dummyHash;
}

/** `scrypt$N$saltHex$hashHex`: what a credentials file stores instead of the token. */
export function hashToken(token: string, salt: Buffer = randomBytes(16)): string {
  const hash = scryptSync(token, salt, KEY_LENGTH, { N: SCRYPT_N });
  return `scrypt$${SCRYPT_N}$${salt.toString("hex")}$${hash.toString("hex")}`;
}

/** Checks a token against its stored hash, off the event loop (scrypt runs on libuv's pool). */
export async function verifyToken(token: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== "scrypt") return false;
  const n = Number(parts[1]);
  const salt = Buffer.from(parts[2], "hex");
  const expected = Buffer.from(parts[3], "hex");
  if (!Number.isInteger(n) || n < 2 || n > 1 << 20 || expected.length === 0 || expected.length > 128)
    return false;
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(token, salt, expected.length, { N: n, maxmem: 256 * n * 8 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  return timingSafeEqual(actual, expected);
}

export interface CredentialsFile {
  users: Record<string, { token: string }>;
}

/**
 * Correct logins remembered for a while (user → HMAC of the token under a per-process key), so
 * that repeated logins of a user who just logged in (the console polling /stats.json, a client
 * reconnecting) skip scrypt and the rate limits: only the right token matches. Only users that
 * logged in enter it, so attacker-chosen names never do; bounded all the same.
 */
export class VerifiedLogins {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { digest: Buffer; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  digest(user: string, token: string): Buffer {
    return createHmac("sha256", this.key).update(user).update("\0").update(token).digest();
  }

  matches(user: string, digest: Buffer, now = Date.now()): boolean {
    const entry = this.entries.get(user);
    if (!entry) return false;
    if (entry.until <= now) {
      this.entries.delete(user);
      return false;
    }
    return timingSafeEqual(entry.digest, digest);
  }

  remember(user: string, digest: Buffer, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(user);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(user, { digest, until: now + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** How long a correct login is remembered by default (see VerifiedLogins). */
export const DEFAULT_VERIFIED_TTL_MS = 15 * 60_000;

/**
 * user/token provider for the gateway's external listeners. Accepts mutual-TLS clients by
 * their certificate's common name when `certificateUsers` lists it.
 */
export class GatewayAuthProvider implements AuthProvider {
  readonly limiter: LoginLimiter;
  private readonly certificateUsers: Set<string>;

  constructor(
    private readonly users: CredentialsFile["users"],
    options: LoginLimitOptions & { certificateUsers?: string[]; verifiedTtlMs?: number } = {},
    private readonly onResult?: (ok: boolean, ctx: AuthContext, user: string | undefined) => void,
  ) {
    const { certificateUsers, verifiedTtlMs, ...limits } = options;
    this.limiter = new LoginLimiter(limits);
    this.verified = new VerifiedLogins(verifiedTtlMs ?? DEFAULT_VERIFIED_TTL_MS);
    this.certificateUsers = new Set(certificateUsers ?? []);
  }

  private readonly verified: VerifiedLogins;
  /** Token checks running, by HMAC of user and token (bounded by the limiter's cap on checks). */
  private readonly checking = new Map<string, Promise<boolean>>();

  async processAuth(data: AuthData, ctx: AuthContext): Promise<AuthResult> {
    if (ctx.peerCertificateSubject && this.certificateUsers.has(ctx.peerCertificateSubject)) {
      this.onResult?.(true, ctx, ctx.peerCertificateSubject);
      return { state: AuthState.Done, identity: ctx.peerCertificateSubject };
    }
    const rawUser = data.get("user");
    const rawToken = data.get("token");
    const user = typeof rawUser === "string" ? rawUser : undefined;
    const token = typeof rawToken === "string" ? rawToken : "";
    const digest = this.verified.digest(user ?? "", token);
    if (user !== undefined && this.verified.matches(user, digest)) {
      this.onResult?.(true, ctx, user);
      return { state: AuthState.Done, identity: user };
    }
    // The same user and token already being checked (a client opening several connections at
    // once): share that check. It tells an attacker nothing new and costs no second scrypt.
    const key = digest.toString("hex");
    let check = this.checking.get(key);
    if (!check) {
      // Reserved before the await: checks in flight count against every limit.
      const admission = this.limiter.admit(user ?? "", ctx.remoteAddress);
      if (!admission.admitted) {
        this.onResult?.(false, ctx, user);
        return { state: AuthState.Error, reason: admission.reason };
      }
      const entry = user !== undefined && Object.hasOwn(this.users, user) ? this.users[user] : undefined;
      // Unknown users cost the same hash as known ones, so timing does not tell which exist.
      check = verifyToken(token, entry?.token ?? dummy())
        .then((matches) => matches && entry !== undefined)
        .finally(() => this.checking.delete(key));
      this.checking.set(key, check);
      check.then(
        (ok) => admission.ticket.settle(ok),
        () => admission.ticket.settle(false),
      );
    }
    const ok = await check;
    if (ok && user !== undefined) this.verified.remember(user, digest);
    if (!ok) {
      this.onResult?.(false, ctx, user);
      return { state: AuthState.Error, reason: "invalid user or token" };
    }
    this.onResult?.(true, ctx, user);
    return { state: AuthState.Done, identity: user };
  }
}

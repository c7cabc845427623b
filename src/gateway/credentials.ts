/**
 * Gateway credentials: users with *hashed* tokens (scrypt, salted), checked in constant time,
 * with failed attempts rate-limited per source address.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import {
  type AuthContext,
  type AuthData,
  type AuthProvider,
  type AuthResult,
  AuthState,
} from "../connection/auth.js";

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

export interface RateLimitOptions {
  /** Failures allowed per address within the window. Default 5. */
  maxFailures?: number;
  /** Window and lock-out length in ms. Default 60 s. */
  windowMs?: number;
  /** Source addresses remembered at most (the oldest are forgotten first). Default 10,000. */
  maxAddresses?: number;
}

/** Counts failures per source address; an address over the limit is refused without checking. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;

  constructor(options: RateLimitOptions = {}) {
    this.max = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  isBlocked(address: string, now = Date.now()): boolean {
    return this.recent(address, now).length >= this.max;
  }

  recordFailure(address: string, now = Date.now()): void {
    const list = this.recent(address, now);
    list.push(now);
    this.failures.set(address, list);
    if (this.failures.size > this.maxAddresses) this.sweep(now);
  }

  /** Addresses with failures in the window (what the limiter holds in memory). */
  get trackedAddresses(): number {
    return this.failures.size;
  }

  /**
   * Many failing addresses (a scan, a spoofing botnet): forget the expired ones, then the
   * oldest, so memory stays bounded whatever the number of sources.
   */
  private sweep(now: number): void {
    for (const address of [...this.failures.keys()]) this.recent(address, now);
    for (const address of this.failures.keys()) {
      if (this.failures.size <= this.maxAddresses) break;
      this.failures.delete(address);
    }
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }
}

/**
 * user/token provider for the gateway's external listeners. Accepts mutual-TLS clients by
 * their certificate's common name when `certificateUsers` lists it.
 */
export class GatewayAuthProvider implements AuthProvider {
  private readonly limiter: FailureLimiter;

  constructor(
    private readonly users: CredentialsFile["users"],
    options: RateLimitOptions & { certificateUsers?: string[] } = {},
    private readonly onResult?: (ok: boolean, ctx: AuthContext, user: string | undefined) => void,
  ) {
    this.limiter = new FailureLimiter(options);
    this.certificateUsers = new Set(options.certificateUsers ?? []);
  }

  private readonly certificateUsers: Set<string>;

  async processAuth(data: AuthData, ctx: AuthContext): Promise<AuthResult> {
    if (ctx.peerCertificateSubject && this.certificateUsers.has(ctx.peerCertificateSubject)) {
      this.onResult?.(true, ctx, ctx.peerCertificateSubject);
      return { state: AuthState.Done, identity: ctx.peerCertificateSubject };
    }
    if (this.limiter.isBlocked(ctx.remoteAddress)) {
      this.onResult?.(false, ctx, undefined);
      return {
        state: AuthState.Error,
        reason: "too many failed attempts from this address, try again later",
      };
    }
    const user = data.get("user");
    const token = data.get("token");
    const entry = typeof user === "string" && Object.hasOwn(this.users, user) ? this.users[user] : undefined;
    // Unknown users cost the same hash as known ones, so timing does not tell which exist.
    const ok =
      (await verifyToken(typeof token === "string" ? token : "", entry?.token ?? dummy())) &&
      entry !== undefined;
    if (!ok) {
      this.limiter.recordFailure(ctx.remoteAddress);
      this.onResult?.(false, ctx, typeof user === "string" ? user : undefined);
      return { state: AuthState.Error, reason: "invalid user or token" };
    }
    this.onResult?.(true, ctx, user as string);
    return { state: AuthState.Done, identity: user as string };
  }
}

/**
 * Rate limiting of login attempts, atomic: an attempt is admitted (its slot reserved) before
 * the token is checked, so attempts still being checked count against the limits exactly like
 * failed ones, and sending guesses in parallel gains nothing.
 *
 * Three keys per attempt, each with growing backoff:
 *  - (user, address): the guessed user from the guessing address is locked out;
 *  - user: the guessed user is locked out, whatever addresses the guesses come from;
 *  - address: many failures from one address (one NAT, one attacker) throttle that address
 *    to one check at a time, at a growing interval, for the users that failed before (from
 *    anywhere). A user with no failure on record is still checked at once, so users behind a
 *    shared address who are not being guessed log in normally; a sprayer gets one guess per
 *    user name before the throttle applies to that name too.
 * A (user, address) pair that logged in correctly is trusted for a while: it skips the
 * address throttle and the user lock-out (not its own pair limit), so guesses against alice
 * from elsewhere do not lock alice out of her usual address.
 * All checks in flight are capped (scrypt is CPU work on libuv's small pool): past the cap,
 * attempts are refused at once instead of queueing; trusted pairs keep a reserve of it.
 * Every table is bounded: keys are made of attacker-chosen names and addresses.
 */
import { createHash } from "node:crypto";

export interface LoginLimitOptions {
  /** Failures of one user from one address before that pair is locked out. Default 5. */
  maxFailures?: number;
  /** Failures of one user (from any address) before the user is locked out. Default 20. */
  maxFailuresPerUser?: number;
  /** Failures from one address (any user) before the address is throttled. Default 20. */
  maxFailuresPerAddress?: number;
  /** Window failures are counted in, and the first lock-out's length (doubling after). Default 60 s. */
  windowMs?: number;
  /** Longest lock-out (and how long a key's past lock-outs are remembered after it ends). Default 15 min. */
  maxLockMs?: number;
  /** First interval between checks from a throttled address (doubling, at most 10 s). Default 1 s. */
  throttleMs?: number;
  /** Token checks (scrypt) running at once, all clients together. Default 8. */
  maxConcurrentChecks?: number;
  /** Token checks running at once for one address (so one source cannot take them all). Default 4. */
  maxChecksPerAddress?: number;
  /** Keys remembered per table (pairs, users, addresses, trusted pairs). Default 10,000. */
  maxEntries?: number;
  /** How long a correct login trusts its (user, address) pair. Default 24 h. */
  trustMs?: number;
}

export const DEFAULT_LOGIN_LIMITS: Required<LoginLimitOptions> = {
  maxFailures: 5,
  maxFailuresPerUser: 20,
  maxFailuresPerAddress: 20,
  windowMs: 60_000,
  maxLockMs: 15 * 60_000,
  throttleMs: 1_000,
  maxConcurrentChecks: 8,
  maxChecksPerAddress: 4,
  maxEntries: 10_000,
  trustMs: 24 * 3_600_000,
};

const MAX_THROTTLE_MS = 10_000;
/** What a refusal caused by checks still in flight suggests (they settle within a scrypt). */
const IN_FLIGHT_RETRY_MS = 1_000;

interface KeyState {
  failures: number;
  inFlight: number;
  windowStart: number;
  /** Locked out (or, for addresses, throttled) until then. */
  lockedUntil: number;
  /** Lock-outs so far: the next one lasts twice as long. */
  strikes: number;
  /** Throttled addresses: the next check allowed at. */
  nextCheckAt: number;
}

/**
 * Failures per key with exponential lock-outs, attempts in flight included. `throttle` keys
 * are not refused while locked but let one check through at a time, at a growing interval.
 */
export class BackoffTable {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly max: number,
    private readonly options: Required<LoginLimitOptions>,
    private readonly throttle = false,
  ) {}

  /** 0 when an attempt on `key` may be checked now, else how long to wait (ms). */
  retryAfter(key: string, now: number): number {
    const s = this.state(key, now);
    if (!s) return 0;
    if (now < s.lockedUntil) {
      if (!this.throttle) return s.lockedUntil - now;
      if (s.inFlight > 0) return Math.max(IN_FLIGHT_RETRY_MS, s.nextCheckAt - now);
      return Math.max(0, s.nextCheckAt - now);
    }
    return s.failures + s.inFlight >= this.max ? IN_FLIGHT_RETRY_MS : 0;
  }

  /** Counts an attempt on `key` as in flight (call after retryAfter said 0). */
  reserve(key: string, now: number): void {
    const s = this.state(key, now) ?? this.create(key, now);
    s.inFlight++;
    if (this.throttle && now < s.lockedUntil) s.nextCheckAt = now + this.throttleInterval(s);
  }

  /** The attempt reserved on `key` is over: a failure counts, and may lock the key out. */
  release(key: string, failed: boolean, now: number): void {
    const s = this.keys.get(key);
    if (!s) return;
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (!failed) return;
    if (now - s.windowStart >= this.options.windowMs && now >= s.lockedUntil) {
      s.failures = 0;
      s.windowStart = now;
    }
    s.failures++;
    if (s.failures >= this.max) {
      s.strikes++;
      const lock = Math.min(this.options.windowMs * 2 ** (s.strikes - 1), this.options.maxLockMs);
      s.lockedUntil = Math.max(s.lockedUntil, now) + lock;
      s.windowStart = s.lockedUntil;
      s.failures = 0;
    }
    // Most recently failed last: eviction takes the least recent first.
    this.keys.delete(key);
    this.keys.set(key, s);
  }

  /** Has `key` failed within its memory (failures in the window or a lock-out remembered)? */
  hasHistory(key: string, now: number): boolean {
    const s = this.state(key, now);
    return s !== undefined && (s.failures > 0 || s.strikes > 0);
  }

  /** Attempts on `key` being checked now. */
  inFlight(key: string): number {
    return this.keys.get(key)?.inFlight ?? 0;
  }

  /** Forgets `key` (a pair that logged in correctly starts afresh). */
  forget(key: string): void {
    const s = this.keys.get(key);
    if (s && s.inFlight === 0) this.keys.delete(key);
  }

  get size(): number {
    return this.keys.size;
  }

  private throttleInterval(s: KeyState): number {
    return Math.min(this.options.throttleMs * 2 ** Math.max(0, s.strikes - 1), MAX_THROTTLE_MS);
  }

  private state(key: string, now: number): KeyState | undefined {
    const s = this.keys.get(key);
    if (s && this.expired(s, now)) {
      this.keys.delete(key);
      return undefined;
    }
    return s;
  }

  /** Nothing in flight, no failure in the window, no lock-out remembered any more. */
  private expired(s: KeyState, now: number): boolean {
    if (s.inFlight > 0) return false;
    const quietFrom = Math.max(s.windowStart + this.options.windowMs, s.lockedUntil);
    return now >= quietFrom + (s.strikes > 0 ? this.options.maxLockMs : 0);
  }

  private create(key: string, now: number): KeyState {
    if (this.keys.size >= this.options.maxEntries) this.evict(now);
    const s: KeyState = {
      failures: 0,
      inFlight: 0,
      windowStart: now,
      lockedUntil: 0,
      strikes: 0,
      nextCheckAt: 0,
    };
    this.keys.set(key, s);
    return s;
  }

  /** Full: drop the expired keys, then the least recently failed ones (never one in flight). */
  private evict(now: number): void {
    for (const [key, s] of this.keys) if (this.expired(s, now)) this.keys.delete(key);
    for (const [key, s] of this.keys) {
      if (this.keys.size < this.options.maxEntries) break;
      if (s.inFlight === 0) this.keys.delete(key);
    }
  }
}

/** An admitted attempt: settle it exactly once with the token check's result. */
export interface LoginTicket {
  /** `at`: when the check ended (default now). */
  settle(ok: boolean, at?: number): void;
}

export type LoginAdmission =
  | { admitted: true; ticket: LoginTicket }
  | { admitted: false; reason: string; retryAfterMs: number };

export class LoginLimiter {
  readonly options: Required<LoginLimitOptions>;
  private readonly pairs: BackoffTable;
  private readonly users: BackoffTable;
  private readonly addresses: BackoffTable;
  /** (user, address) pairs that logged in correctly → until when they are trusted. */
  private readonly trusted = new Map<string, number>();
  private checking = 0;

  constructor(options: LoginLimitOptions = {}) {
    const o = { ...DEFAULT_LOGIN_LIMITS };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, number>)[k] = v;
    this.options = o;
    this.pairs = new BackoffTable(o.maxFailures, o);
    this.users = new BackoffTable(o.maxFailuresPerUser, o);
    this.addresses = new BackoffTable(o.maxFailuresPerAddress, o, true);
  }

  /** Token checks running now. */
  get inFlight(): number {
    return this.checking;
  }

  /** Keys held in memory, per table (bounded by maxEntries each). */
  get tracked(): { pairs: number; users: number; addresses: number; trusted: number } {
    return {
      pairs: this.pairs.size,
      users: this.users.size,
      addresses: this.addresses.size,
      trusted: this.trusted.size,
    };
  }

  /** Admits an attempt of `user` from `address` (reserving its slots) or says why not and for how long. */
  admit(user: string, address: string, now = Date.now()): LoginAdmission {
    const userKey = boundedKey(user);
    const pairKey = `${userKey}\0${address}`;
    const trusted = this.isTrusted(pairKey, now);
    const reserve = Math.min(2, this.options.maxConcurrentChecks - 1);
    if (
      this.checking >= this.options.maxConcurrentChecks - (trusted ? 0 : reserve) ||
      (!trusted && this.addresses.inFlight(address) >= this.options.maxChecksPerAddress)
    ) {
      return refusal("the gateway is busy checking other logins", IN_FLIGHT_RETRY_MS);
    }
    const pairWait = this.pairs.retryAfter(pairKey, now);
    const userWait = trusted ? 0 : this.users.retryAfter(userKey, now);
    if (pairWait > 0 || userWait > 0) {
      return refusal("too many failed attempts", Math.max(pairWait, userWait));
    }
    const throttled = !trusted && this.users.hasHistory(userKey, now);
    const addressWait = throttled ? this.addresses.retryAfter(address, now) : 0;
    if (addressWait > 0) return refusal("too many failed attempts from this address", addressWait);
    this.pairs.reserve(pairKey, now);
    this.users.reserve(userKey, now);
    this.addresses.reserve(address, now);
    this.checking++;
    let settled = false;
    return {
      admitted: true,
      ticket: {
        settle: (ok: boolean, at = Math.max(Date.now(), now)) => {
          if (settled) return;
          settled = true;
          this.checking--;
          this.pairs.release(pairKey, !ok, at);
          this.users.release(userKey, !ok, at);
          this.addresses.release(address, !ok, at);
          if (ok) {
            this.pairs.forget(pairKey);
            this.trust(pairKey, at);
          }
        },
      },
    };
  }

  private isTrusted(pairKey: string, now: number): boolean {
    const until = this.trusted.get(pairKey);
    if (until === undefined) return false;
    if (until > now) return true;
    this.trusted.delete(pairKey);
    return false;
  }

  private trust(pairKey: string, now: number): void {
    this.trusted.delete(pairKey);
    if (this.trusted.size >= this.options.maxEntries) {
      const oldest = this.trusted.keys().next().value;
      if (oldest !== undefined) this.trusted.delete(oldest);
    }
    this.trusted.set(pairKey, now + this.options.trustMs);
  }
}

function refusal(what: string, retryAfterMs: number): LoginAdmission {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return { admitted: false, reason: `${what}; retry in ${seconds} s`, retryAfterMs };
}

/** A user name as a key: long ones (attacker-chosen, up to a handshake's size) by their hash. */
function boundedKey(user: string): string {
  return user.length <= 128 ? user : `#${createHash("sha256").update(user).digest("hex")}`;
}

/**
 * Login attempts are limited atomically (checks in flight count) per (user, address), per user
 * and per address, with growing backoff and bounded memory.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AuthResult } from "../../src/connection/auth.js";
import { isQiError, UserTokenAuthenticator } from "../../src/connection/index.js";
import { gatewayOptionsFromConfig, validateGatewayConfig } from "../../src/config/index.js";
import { GatewayAuthProvider, hashToken, LoginLimiter } from "../../src/gateway/index.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

const RIGHT = "right-token";
const users = { alice: { token: hashToken(RIGHT) }, bob: { token: hashToken("bob-token") } };

function attempt(provider: GatewayAuthProvider, user: string, token: string, address: string) {
  return provider.processAuth(
    new Map([
      ["user", user],
      ["token", token],
    ]),
    { remoteAddress: address },
  ) as Promise<AuthResult>;
}

/** How many of the results came from an actual token check (not a refusal by the limiter). */
function checked(results: AuthResult[]): number {
  return results.filter((r) => r.state === 3 || r.reason === "invalid user or token").length;
}

describe("authentication rate limit", () => {
  it("refuses an address after maxFailures, even with the right token, until the lock-out ends", async () => {
    const provider = new GatewayAuthProvider(
      { alice: { token: hashToken("right") } },
      { maxFailures: 3, windowMs: 2_000 },
    );
    const { gwUrl } = await world({ allowAnonymous: false, authProvider: provider });
    const login = (token: string) =>
      client(gwUrl, { authenticator: new UserTokenAuthenticator("alice", token) });
    // In parallel: the three failures must land inside one window even on a loaded machine,
    // where three scrypt checks one after the other can take longer than the window (three
    // tokens: parallel logins with the same credentials share one check).
    const wrong = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => login(`wrong-${i}`)));
    for (const attempt of wrong) {
      expect(attempt.status === "rejected" && String(attempt.reason?.message)).toContain(
        "invalid user or token",
      );
    }
    await expect(login("right")).rejects.toSatisfy(
      (e: unknown) =>
        isQiError(e, "QI_ERR_AUTH") && /too many failed attempts; retry in [12] s/.test((e as Error).message),
    );
    await new Promise((r) => setTimeout(r, 2_100));
    const ok = await login("right");
    expect((await ok.services()).length).toBeGreaterThan(0);
  });

  it("checks at most maxFailures of 200 parallel guesses from one address (the right one among them)", async () => {
    const provider = new GatewayAuthProvider(users, { maxFailures: 5 });
    const guesses = Array.from({ length: 200 }, (_, i) => (i === 150 ? RIGHT : `guess-${i}`));
    const results = await Promise.all(guesses.map((t) => attempt(provider, "alice", t, "10.1.1.1")));
    expect(checked(results)).toBeLessThanOrEqual(5);
    expect(results.filter((r) => r.state === 3)).toEqual([]);
    expect(provider.limiter.inFlight).toBe(0);
  });

  it("checks at most the per-user budget of guesses spread over 100 addresses", async () => {
    const provider = new GatewayAuthProvider(users, { maxFailuresPerUser: 12, maxConcurrentChecks: 1000 });
    const tries = Array.from({ length: 300 }, (_, i) =>
      attempt(provider, "alice", `guess-${i}`, `127.0.0.${(i % 100) + 1}`),
    );
    const results = await Promise.all(tries);
    expect(checked(results)).toBeLessThanOrEqual(12);
    const refused = results.find((r) => r.state === 1 && r.reason !== "invalid user or token");
    expect(refused?.reason).toMatch(/^too many failed attempts; retry in \d+ s$/);
  });

  it("lets a user behind an attacked address log in while it guesses others", async () => {
    const provider = new GatewayAuthProvider(users, { maxFailuresPerAddress: 10 });
    const address = "10.2.2.2";
    let stop = false;
    let guesses = 0;
    // Two attacker loops: spraying new names and going back to the ones already tried.
    const attacker = async (loop: number) => {
      while (!stop) {
        const name = guesses % 2 === 0 ? `user-${loop}-${guesses}` : "alice";
        guesses++;
        await attempt(provider, name, `guess-${guesses}`, address);
        await new Promise((r) => setImmediate(r));
      }
    };
    const loops = [attacker(0), attacker(1)];
    while (guesses < 30) await new Promise((r) => setTimeout(r, 10));
    // Bob's first try goes through: he is not the one being guessed.
    const bob = await attempt(provider, "bob", "bob-token", address);
    const again = await attempt(provider, "alice", RIGHT, address);
    stop = true;
    await Promise.all(loops);
    expect(bob).toMatchObject({ state: 3, identity: "bob" });
    // alice, the guessed user, is the one locked out (pair and user keys).
    expect(again.reason).toMatch(/^too many failed attempts.*; retry in \d+ s$/);
  });

  it("throttles an address that keeps failing to one check at a time for users with failures", () => {
    const limiter = new LoginLimiter({ maxFailuresPerAddress: 3, throttleMs: 1_000, maxFailures: 100 });
    for (let i = 0; i < 3; i++) {
      const a = limiter.admit(`u${i}`, "10.7.7.7", 0);
      if (a.admitted) a.ticket.settle(false, 0);
    }
    // u0 failed before: one check per interval from this address.
    const first = limiter.admit("u0", "10.7.7.7", 10);
    expect(first.admitted).toBe(true);
    expect(limiter.admit("u1", "10.7.7.7", 10)).toMatchObject({
      admitted: false,
      reason: "too many failed attempts from this address; retry in 1 s",
    });
    if (first.admitted) first.ticket.settle(false, 20);
    expect(limiter.admit("u1", "10.7.7.7", 500)).toMatchObject({ admitted: false });
    // A user with no failure on record is checked at once.
    expect(limiter.admit("carol", "10.7.7.7", 500)).toMatchObject({ admitted: true });
  });

  it("shares one check among parallel logins with the same credentials (a client opening many connections)", async () => {
    const provider = new GatewayAuthProvider(users, { maxConcurrentChecks: 2, verifiedTtlMs: 0 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => attempt(provider, "bob", "bob-token", "10.8.8.8")),
    );
    expect(results.every((r) => r.state === 3)).toBe(true);
  });

  it("remembers a correct login: the next ones skip the limits, a wrong token does not", async () => {
    const provider = new GatewayAuthProvider(users, { maxFailures: 1, maxFailuresPerUser: 1 });
    expect(await attempt(provider, "bob", "bob-token", "10.9.9.9")).toMatchObject({ state: 3 });
    expect(await attempt(provider, "bob", "wrong", "10.9.9.10")).toMatchObject({
      reason: "invalid user or token",
    });
    // bob is locked out for guesses now, but the right token is known to be right.
    expect(await attempt(provider, "bob", "wrong", "10.9.9.11")).toMatchObject({
      reason: expect.stringMatching(/retry in/),
    });
    expect(await attempt(provider, "bob", "bob-token", "10.9.9.12")).toMatchObject({ state: 3 });
  });

  it("keeps a user who logged in from an address in, while others guess that user elsewhere", () => {
    const limiter = new LoginLimiter({ maxFailures: 3, maxFailuresPerUser: 5 });
    const ok = limiter.admit("alice", "192.168.1.10", 1_000);
    if (!ok.admitted) throw new Error(ok.reason);
    ok.ticket.settle(true, 1_000);
    for (let i = 0; i < 10; i++) {
      const a = limiter.admit("alice", `203.0.113.${i}`, 2_000);
      if (a.admitted) a.ticket.settle(false, 2_000);
    }
    expect(limiter.admit("alice", "198.51.100.1", 2_000)).toMatchObject({ admitted: false });
    expect(limiter.admit("alice", "192.168.1.10", 2_000)).toMatchObject({ admitted: true });
  });

  it("locks out for longer after each lock-out, and says for how long", () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowMs: 10_000, maxLockMs: 35_000 });
    const fail = (now: number) => {
      const a = limiter.admit("alice", "10.3.3.3", now);
      if (!a.admitted) return a;
      a.ticket.settle(false, now);
      return a;
    };
    const lockLengths: number[] = [];
    let now = 0;
    for (let lock = 0; lock < 4; lock++) {
      fail(now);
      fail(now);
      const refused = limiter.admit("alice", "10.3.3.3", now);
      if (refused.admitted) throw new Error("not locked");
      expect(refused.reason).toBe(`too many failed attempts; retry in ${refused.retryAfterMs / 1000} s`);
      lockLengths.push(refused.retryAfterMs);
      now += refused.retryAfterMs;
    }
    expect(lockLengths).toEqual([10_000, 20_000, 35_000, 35_000]);
    // Remembered lock-outs are forgotten after a quiet maxLockMs.
    now += 10_000 + 35_000;
    fail(now);
    fail(now);
    const fresh = limiter.admit("alice", "10.3.3.3", now);
    expect(fresh).toMatchObject({ admitted: false, retryAfterMs: 10_000 });
  });

  it("refuses at once beyond the concurrent check cap, keeping a reserve for trusted pairs", () => {
    const limiter = new LoginLimiter({ maxConcurrentChecks: 4 });
    const trusted = limiter.admit("bob", "10.4.4.4", 0);
    if (!trusted.admitted) throw new Error("refused");
    trusted.ticket.settle(true, 0);
    const admitted = Array.from({ length: 10 }, (_, i) => limiter.admit(`u${i}`, `10.5.5.${i}`, 1));
    expect(admitted.filter((a) => a.admitted)).toHaveLength(2);
    expect(admitted.at(-1)).toMatchObject({
      admitted: false,
      reason: "the gateway is busy checking other logins; retry in 1 s",
    });
    expect(limiter.admit("bob", "10.4.4.4", 1)).toMatchObject({ admitted: true });
  });

  it("remembers a bounded number of user names and addresses, long names included", () => {
    const limiter = new LoginLimiter({ maxEntries: 100 });
    const long = "x".repeat(30_000);
    for (let i = 0; i < 5_000; i++) {
      const a = limiter.admit(`${long}${i}`, `10.6.${i >> 8}.${i & 255}`, i);
      if (a.admitted) a.ticket.settle(false, i);
    }
    const tracked = limiter.tracked;
    expect(tracked.users).toBeLessThanOrEqual(100);
    expect(tracked.pairs).toBeLessThanOrEqual(100);
    expect(tracked.addresses).toBeLessThanOrEqual(100);
  });

  it("takes its limits from the configuration file", () => {
    const config = validateGatewayConfig({
      listen: ["tcp://127.0.0.1:0"],
      auth: {
        users: { alice: { token: hashToken("x") } },
        rateLimit: {
          maxFailures: 3,
          maxFailuresPerUser: 9,
          maxFailuresPerAddress: 30,
          maxConcurrentChecks: 4,
        },
        verifiedTtlMs: 0,
      },
    });
    const provider = gatewayOptionsFromConfig(config, "gw.yaml").authProvider as GatewayAuthProvider;
    expect(provider.limiter.options).toMatchObject({
      maxFailures: 3,
      maxFailuresPerUser: 9,
      maxFailuresPerAddress: 30,
      maxConcurrentChecks: 4,
      windowMs: 60_000,
    });
    expect(() =>
      validateGatewayConfig({ listen: ["tcp://127.0.0.1:0"], auth: { rateLimit: { maxFailure: 3 } } }),
    ).toThrow(/maxFailure/);
  });
});

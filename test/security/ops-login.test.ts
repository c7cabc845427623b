/**
 * Issue 10 item 5 against a real gateway process: parallel guessing is limited atomically,
 * the guessed user is the one locked out, other users behind the same address still log in,
 * and the canary never notices.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CAPS_RAISED, login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";
import { tally, tryLogin, tryLogins } from "./fixtures/ops-attempts.js";

afterEach(runCleanup);

describe("login rate limit (real gateway)", () => {
  it("checks at most 5 of 200 parallel guesses; alice is locked out, bob still logs in", async () => {
    // 200 connections at once from one address: the per-address connection caps (door) would
    // close most of them before they authenticate; this case is about the login limiter.
    const t = await startTarget({ configure: (c) => (c.limits = CAPS_RAISED) });
    const canary = await startCanary(t.gateway.tcpUrl);
    const results = await tryLogins(t.gateway.tcpUrl, 200, 200, (i) => ({
      user: "alice",
      token: `guess-${i}`,
    }));
    const counts = tally(results);
    expect(counts["logged in"]).toBe(0);
    expect(counts["checked and refused"]).toBeLessThanOrEqual(5);
    expect(counts["checked and refused"] + counts["refused unchecked"]).toBe(200);
    // The refusal says for how long.
    // The refusal says for how long (which refusal comes first depends on how the 200 checks
    // interleave: the per-address cap on checks, or the lock-out).
    expect(results.some((r) => /retry in \d+ s/.test(r.message))).toBe(true);
    // Even the right token is refused now for alice from this address ...
    expect((await tryLogin(t.gateway.tcpUrl, USERS.alice)).outcome).toBe("refused unchecked");
    // ... but bob, behind the same address, is not locked out.
    const bob = await login(t.gateway.tcpUrl, USERS.bob);
    expect((await bob.services()).length).toBeGreaterThan(0);
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
    expect(t.gateway.alive()).toBe(true);
  });
});

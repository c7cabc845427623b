/** The backoff policy of reconnecting sessions: growth, cap, jitter, attempt bound, reset. */
import { describe, expect, it } from "vitest";
import { Backoff, CancellableDelay, DEFAULT_BACKOFF } from "../../src/session/reconnect.js";

describe("Backoff", () => {
  it("grows by the factor up to maxMs; without jitter the delays are the nominal ones", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(b.attempt).toBe(6);
  });

  it("jitter takes up to that fraction off each delay, never more, never adds", () => {
    const low = new Backoff({ initialMs: 1_000, jitter: 0.5 }, () => 1);
    const high = new Backoff({ initialMs: 1_000, jitter: 0.5 }, () => 0);
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1_000);
    const real = new Backoff({ initialMs: 1_000, maxMs: 1_000 });
    for (let i = 0; i < 100; i++) {
      const d = real.next()!;
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1_000);
    }
  });

  it("maxAttempts bounds the attempts; reset starts again from initialMs", () => {
    const b = new Backoff({ initialMs: 10, jitter: 0, maxAttempts: 2 });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, undefined]);
    b.reset();
    expect(b.next()).toBe(10);
  });

  it("refuses a policy that makes no sense", () => {
    expect(() => new Backoff({ initialMs: -1 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
    expect(DEFAULT_BACKOFF.maxMs).toBe(5_000);
  });
});

describe("CancellableDelay", () => {
  it("resolves true after the delay, false at once when cancelled", async () => {
    const d = new CancellableDelay();
    expect(await d.wait(5)).toBe(true);
    const waiting = d.wait(60_000);
    d.cancel();
    expect(await waiting).toBe(false);
  });
});

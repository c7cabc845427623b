/** Failed authentications are limited per source address, with bounded memory. */
import { afterEach, describe, expect, it } from "vitest";
import { isQiError, UserTokenAuthenticator } from "../../src/connection/index.js";
import { FailureLimiter, GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

describe("authentication rate limit", () => {
  it("refuses an address after maxFailures, even with the right token, until the window ends", async () => {
    const provider = new GatewayAuthProvider(
      { alice: { token: hashToken("right") } },
      { maxFailures: 3, windowMs: 800 },
    );
    const { gwUrl } = await world({ allowAnonymous: false, authProvider: provider });
    const attempt = (token: string) =>
      client(gwUrl, { authenticator: new UserTokenAuthenticator("alice", token) });
    for (let i = 0; i < 3; i++) {
      await expect(attempt("wrong")).rejects.toMatchObject({
        message: expect.stringContaining("invalid user or token"),
      });
    }
    await expect(attempt("right")).rejects.toSatisfy(
      (e: unknown) => isQiError(e, "ERR_AUTH") && /too many failed attempts/.test((e as Error).message),
    );
    await new Promise((r) => setTimeout(r, 900));
    const ok = await attempt("right");
    expect((await ok.services()).length).toBeGreaterThan(0);
  });

  it("remembers a bounded number of addresses", () => {
    const limiter = new FailureLimiter({ maxFailures: 5, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 1_000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`, 1_000 + i);
    expect(limiter.trackedAddresses).toBeLessThanOrEqual(100);
    // The newest are the ones kept.
    for (let k = 0; k < 5; k++) limiter.recordFailure("10.0.3.231", 3_000);
    expect(limiter.isBlocked("10.0.3.231", 3_000)).toBe(true);
    // Expired failures are forgotten.
    expect(limiter.isBlocked("10.0.3.231", 3_000 + 60_001)).toBe(false);
  });
});

/** The harness itself: the target runs, users see what their permissions allow, the canary is healthy. */
import { afterEach, describe, expect, it } from "vitest";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

describe("security target", () => {
  it("serves users according to their permissions and keeps a healthy canary", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const alice = await login(t.gateway.tcpUrl, USERS.alice);
    const names = (await alice.services()).map((s) => s.name).sort();
    expect(names).toEqual(expect.arrayContaining(["ALMemory", "Calc", "Vault"]));
    const canarySees = await login(t.gateway.tcpUrl, USERS.canary);
    expect((await canarySees.services()).map((s) => s.name)).toEqual(["Calc"]);
    await expect(login(t.gateway.tcpUrl, { user: "alice", token: "wrong" })).rejects.toThrow();
    expect(t.gateway.rss()).toBeGreaterThan(10_000_000);
    while (canary.calls < 3) await new Promise((r) => setTimeout(r, 50));
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
    expect(t.gateway.alive()).toBe(true);
  });
});

/**
 * Issue 10 item 9 (logs) against a real gateway process: a client refused 10,000 times leaves a
 * few aggregated lines, and a 30 KB client-chosen name is logged cut short.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";
import { tally, tryLogins } from "./fixtures/ops-attempts.js";

afterEach(runCleanup);

const refusalLines = (lines: string[]) => lines.filter((l) => l.includes('"msg":"client refused'));

describe("gateway logs under attack (real gateway)", () => {
  it("logs a client refused 10,000 times in a few lines", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const before = t.gateway.logLines.length;
    const results = await tryLogins(t.gateway.tcpUrl, 10_000, 32, (i) => ({
      user: "mallory",
      token: `guess-${i}`,
    }));
    const counts = tally(results);
    expect(counts["logged in"]).toBe(0);
    expect(counts["other error"]).toBe(0);
    const lines = t.gateway.logLines.slice(before);
    const refused = refusalLines(lines);
    // One line per reason ("invalid user or token", "too many failed attempts") per 10 s, and
    // one "… and N more" per reason per 10 s: a handful, not 10,000.
    console.info(`10,000 refused logins: ${refused.length} refusal lines, ${lines.length} lines in all`);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeLessThanOrEqual(20);
    expect(lines.length).toBeLessThanOrEqual(40);
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
  }, 120_000);

  it("logs a 30 KB name cut to 64 characters", async () => {
    const t = await startTarget({
      configure: (config) => {
        config.registration = { enabled: true };
      },
    });
    const canary = await startCanary(t.gateway.tcpUrl);
    const longName = `Svc${"y".repeat(30_000 - 3)}`;
    const admin = await login(t.gateway.tcpUrl, USERS.admin);
    await admin
      .registerService(
        longName,
        new QiObject().method("ping", "()", "i", () => 1),
      )
      .catch(() => {});
    await login(t.gateway.tcpUrl, { user: "z".repeat(30_000), token: "guess" }).catch(() => {});
    // The registration's line is written once the gateway has answered.
    const deadline = Date.now() + 5_000;
    while (!t.gateway.logLines.some((l) => l.includes("…(30000 bytes)")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(t.gateway.logLines.some((l) => l.includes(`Svc${"y".repeat(61)}…(30000 bytes)`))).toBe(true);
    for (const line of t.gateway.logLines) {
      expect(line.length).toBeLessThan(2_000);
      expect(line).not.toMatch(/y{100}|z{100}/);
    }
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
  });
});

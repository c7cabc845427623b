/**
 * Issue 10 item 9 (/stats.json, metrics) against a real gateway process: a user sees only their
 * own connections, an admin everyone's; hammering /stats.json does not run scrypt per
 * request; metrics listen on loopback unless protected or explicitly allowed.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayStatsJson } from "../../src/web/stats.js";
import { type Credentials, login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

function basic({ user, token }: Credentials): string {
  return `Basic ${Buffer.from(`${user}:${token}`, "utf8").toString("base64")}`;
}

describe("/stats.json and metrics (real gateway)", () => {
  it("shows alice her connections only, the admin everyone's, and answers 200 requests fast", async () => {
    const t = await startTarget({
      configure: (config) => {
        const users = (config.permissions as { users: Record<string, Record<string, unknown>> }).users;
        users.admin.admin = true;
      },
    });
    const canary = await startCanary(t.gateway.tcpUrl);
    await login(t.gateway.tcpUrl, USERS.alice);
    await login(t.gateway.tcpUrl, USERS.bob);
    const statsUrl = `${t.gateway.wsUrl.replace(/^ws:/, "http:").replace(/\/qi$/, "")}/stats.json`;
    const statsAs = async (who: Credentials) => {
      const r = await fetch(statsUrl, { headers: { authorization: basic(who) } });
      expect(r.status).toBe(200);
      return (await r.json()) as GatewayStatsJson;
    };
    expect((await statsAs(USERS.alice)).clients.map((c) => c.user)).toEqual(["alice"]);
    expect((await statsAs(USERS.admin)).clients.map((c) => c.user).sort()).toEqual([
      "alice",
      "bob",
      "canary",
    ]);

    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        const r = await fetch(statsUrl, { headers: { authorization: basic(USERS.bob) } });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }),
    );
    const ms = performance.now() - t0;
    // A scrypt per request would take seconds (200 × tens of ms on a few threads).
    expect(ms).toBeLessThan(2_000);
    console.info(`/stats.json: 200 parallel authenticated requests in ${ms.toFixed(0)} ms`);
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
  });

  it("serves metrics on loopback when the address names no host, and refuses a public one", async () => {
    const t = await startTarget({ configure: (config) => (config.metrics = ":0") });
    const line = t.gateway.logLines.find((l) => l.includes('"msg":"metrics listening"'));
    const url = (JSON.parse(line ?? "{}") as { url?: string }).url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(url!)).status).toBe(200);
    await expect(startTarget({ configure: (config) => (config.metrics = "0.0.0.0:0") })).rejects.toThrow(
      /metrics on 0\.0\.0\.0:0 would be readable by anyone/,
    );
  });
});

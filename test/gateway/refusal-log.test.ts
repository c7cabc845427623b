/** Refusals are logged aggregated per reason and address; client-chosen strings are clipped. */
import { afterEach, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { clip, clippingLogger, RefusalLog } from "../../src/gateway/refusal-log.js";
import { capturingLogger, client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

describe("clipped log fields", () => {
  it("cuts long strings to 64 characters and says how long they were", () => {
    expect(clip("short")).toBe("short");
    const long = "é".repeat(30_000);
    expect(clip(long)).toBe(`${"é".repeat(64)}…(60000 bytes)`);
  });

  it("clips client-chosen fields in every record, children included", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = clippingLogger(capturingLogger(lines, "info"));
    const name = "n".repeat(30_000);
    logger.info({ user: name, service: name, client: 3 }, "x");
    logger.child({ part: "router" }).warn({ method: name, signature: name, reason: name }, "y");
    expect(lines[1].reason).toBe(`${"n".repeat(160)}…(30000 bytes)`);
    for (const line of lines) expect(JSON.stringify(line).length).toBeLessThan(1_000);
    expect(lines[0]).toMatchObject({ user: `${"n".repeat(64)}…(30000 bytes)`, client: 3 });
    expect(lines[1]).toMatchObject({ part: "router", method: `${"n".repeat(64)}…(30000 bytes)` });
  });
});

describe("refusal log", () => {
  it("writes one line per reason and address per interval, then '… and N more'", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new RefusalLog(capturingLogger(lines, "info"), { intervalMs: 10_000 });
    for (let i = 0; i < 10_000; i++)
      log.refused("10.0.0.1", `too many failed attempts; retry in ${(i % 60) + 1} s`, {}, 1_000 + i);
    log.refused("10.0.0.2", "invalid user or token", {}, 5_000);
    expect(lines.map((l) => l.msg)).toEqual(["client refused", "client refused"]);
    log.flush(12_000);
    expect(lines[2]).toMatchObject({
      msg: "client refused … and 9999 more",
      address: "10.0.0.1",
      more: 9_999,
    });
    expect(lines).toHaveLength(3);
    // A quiet pair is forgotten at the next flush; nothing more is written.
    log.flush(30_000);
    log.flush(50_000);
    expect(log.size).toBe(0);
    expect(lines).toHaveLength(3);
    log.close();
  });

  it("tracks a bounded number of (reason, address) pairs", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new RefusalLog(capturingLogger(lines, "info"), { maxKeys: 50 });
    for (let i = 0; i < 5_000; i++)
      log.refused(`10.1.${i >> 8}.${i & 255}`, "invalid user or token", {}, 1_000);
    expect(log.size).toBeLessThanOrEqual(51);
    expect(lines.length).toBeLessThanOrEqual(51);
    log.close();
    expect(lines.at(-1)).toMatchObject({ address: "(many addresses)", more: 5_000 - 51 });
  });

  it("aggregates a gateway's refusals of one client", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const provider = new GatewayAuthProvider({ alice: { token: hashToken("right") } });
    const { gwUrl } = await world({
      allowAnonymous: false,
      authProvider: provider,
      logger: capturingLogger(lines, "info"),
    });
    const name = "u".repeat(30_000);
    for (let i = 0; i < 30; i++)
      await client(gwUrl, {
        authenticator: new UserTokenAuthenticator(i < 2 ? name : "alice", "wrong"),
      }).catch(() => {});
    const refused = lines.filter((l) => String(l.msg).startsWith("client refused"));
    expect(refused.length).toBeLessThanOrEqual(3);
    expect(refused[0]).toMatchObject({
      address: "127.0.0.1",
      reason: expect.stringMatching(/invalid user or token$/),
    });
    for (const line of lines) expect(JSON.stringify(line)).not.toContain("u".repeat(100));
  });
});

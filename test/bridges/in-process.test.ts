/**
 * The bridges' way in: an in-process client of the gateway, logged in as the bridge's user
 * without a token, bounded by the gateway's permissions like any outside client.
 */
import { afterEach, describe, expect, it } from "vitest";
import { inProcessTransport } from "../../src/bridges/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { cleanup, runCleanup, world } from "../gateway/world.js";

afterEach(runCleanup);

async function bridgeSession(gw: Parameters<typeof inProcessTransport>[0], user: string): Promise<Session> {
  const s = new Session({ transport: inProcessTransport(gw, user) });
  cleanup.push(() => s.close());
  await s.connect("inproc://gateway/test");
  return s;
}

describe("in-process bridge clients", () => {
  it("reach the services through the gateway with no token, even when the gateway requires one", async () => {
    const w = await world({
      allowAnonymous: false,
      authProvider: new GatewayAuthProvider({ nao: { token: hashToken("secret") } }),
    });
    const s = await bridgeSession(w.gw, "bridge-test");
    const calc = await s.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
    expect(w.gw.clients().some((c) => c.user === "bridge-test")).toBe(true);
  });

  it("are bounded by the gateway's permissions for their user", async () => {
    const w = await world({
      allowAnonymous: false,
      authProvider: new GatewayAuthProvider({}),
      permissions: {
        users: { "bridge-test": { services: { allow: ["Calc"] }, call: { allow: ["Calc.add"] } } },
      },
    });
    const s = await bridgeSession(w.gw, "bridge-test");
    const calc = await s.service("Calc");
    expect(await calc.call("add", 1, 1)).toBe(2);
    await expect(calc.call("slow", 1)).rejects.toThrow(/not allowed|denied|permission/i);
    const other = await bridgeSession(w.gw, "bridge-other");
    await expect(other.service("Calc")).rejects.toThrow();
  });
});

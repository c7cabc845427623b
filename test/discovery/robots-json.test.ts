/**
 * /robots.json over real HTTP on 127.0.0.1, served by the gateway's web handler as `qi start
 * --discover` wires it: behind the gateway's own credentials like /stats.json (401 without or
 * with a wrong token, no browser dialog), the list as discovery keeps it, and 404 when
 * discovery is off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscoveredRobot } from "../../src/discovery/index.js";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { gatewayWebHandler } from "../../src/web/index.js";

const USER = "nao";
const TOKEN = "robots are not public";
const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;

const ROBOT: DiscoveredRobot = {
  name: "Pepper",
  address: "192.0.2.12",
  addresses: ["192.0.2.12"],
  port: 9559,
  tls: false,
  url: "tcp://192.0.2.12:9559",
  robotType: "Pepper",
};

async function gatewayWith(
  sdUrl: string,
  robots: (() => object[]) | undefined,
): Promise<{ gw: Gateway; http: string }> {
  let gw: Gateway | undefined;
  gw = await startGateway({
    attach: sdUrl,
    listen: ["ws://127.0.0.1:0"],
    authProvider: new GatewayAuthProvider({ [USER]: { token: hashToken(TOKEN) } }),
    ws: { httpHandler: gatewayWebHandler(undefined, () => gw, robots) },
  });
  const ws = gw.endpoints().find((e) => e.startsWith("ws://"))!;
  return { gw, http: ws.replace(/^ws:/, "http:").replace(/\/qi$/, "") };
}

describe("/robots.json", () => {
  let sd: Session;
  let on: { gw: Gateway; http: string };
  let off: { gw: Gateway; http: string };

  beforeAll(async () => {
    sd = new Session();
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
    on = await gatewayWith(sdUrl, () => [ROBOT]);
    off = await gatewayWith(sdUrl, undefined);
  }, 30_000);

  afterAll(async () => {
    await on?.gw.close();
    await off?.gw.close();
    await sd?.close();
  });

  it("serves the robots discovery found to the gateway's users", async () => {
    const r = await fetch(`${on.http}/robots.json`, { headers: { authorization: basic(USER, TOKEN) } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/application\/json/);
    expect(r.headers.get("cache-control")).toBe("no-cache");
    expect(await r.json()).toEqual([ROBOT]);
  });

  it("refuses anyone else with 401 and no browser dialog, like /stats.json", async () => {
    const tries: Record<string, string>[] = [
      {},
      { authorization: basic(USER, "wrong") },
      { authorization: "Bearer x" },
    ];
    for (const headers of tries) {
      const r = await fetch(`${on.http}/robots.json`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toBeNull();
      expect(JSON.stringify(await r.json())).not.toContain("192.0.2.12");
    }
  });

  it("is 404 when discovery is off", async () => {
    const r = await fetch(`${off.http}/robots.json`, { headers: { authorization: basic(USER, TOKEN) } });
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/discovery is off/);
  });
});

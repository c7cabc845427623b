/**
 * /stats.json behind the gateway's credentials, over real HTTP on 127.0.0.1: a Service
 * Directory, a Gateway on ws:// with user/token auth whose listener serves the web handler
 * with `authenticate` wired to `Gateway.authenticate` (as the CLI does), and a Node qi client
 * logged in through the gateway so the statistics have a client row to show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/auth.js";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { registerScheme } from "../../src/transport/schemes.js";
import { wsDriver } from "../../src/transport/ws.js";
import { createWebHandler } from "../../src/web/serve.js";
import { type GatewayStatsJson, gatewayStats } from "../../src/web/stats.js";

const USER = "bob";
const TOKEN = "stats are not public";

function basic(user: string, token: string): string {
  return `Basic ${Buffer.from(`${user}:${token}`, "utf8").toString("base64")}`;
}

describe("/stats.json requires the gateway's credentials", () => {
  let sd: Session;
  let gateway: Gateway;
  let client: Session;
  let statsUrl: string;
  let authenticateCalls = 0;

  beforeAll(async () => {
    sd = new Session();
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");

    let gw: Gateway | undefined;
    const handler = createWebHandler({
      // No built console needed: only /stats.json is requested.
      root: "/nonexistent",
      stats: (viewer) => (gw ? gatewayStats(gw, viewer) : {}),
      authenticate: async (user, token, address) => {
        authenticateCalls++;
        if (!gw) return undefined;
        const data = new Map<string, unknown>(
          Object.entries({ user, token }).filter(([, v]) => v !== undefined),
        );
        return gw.authenticate(data, address);
      },
    });
    // GatewayOptions has `ws`, but wrapping the driver keeps this test independent of how the
    // gateway forwards listen options (same approach as world.ts).
    registerScheme("ws", {
      connect: wsDriver.connect,
      listen: (url, opts, onChannel) =>
        wsDriver.listen(url, { ...opts, ws: { ...opts.ws, httpHandler: handler } }, onChannel),
    });
    try {
      gw = await startGateway({
        attach: sdUrl,
        listen: ["ws://127.0.0.1:0"],
        authProvider: new GatewayAuthProvider({ [USER]: { token: hashToken(TOKEN) } }),
      });
    } finally {
      registerScheme("ws", wsDriver);
    }
    gateway = gw;
    await gateway.waitAttached();
    const wsUrl = gateway.endpoints().find((e) => e.startsWith("ws://"));
    if (!wsUrl) throw new Error(`no ws endpoint in ${gateway.endpoints().join(", ")}`);
    statsUrl = `${wsUrl.replace(/^ws:/, "http:").replace(/\/qi$/, "")}/stats.json`;

    // Logged in before any refused request, so the failure limiter cannot get in its way.
    client = new Session({ authenticator: new UserTokenAuthenticator(USER, TOKEN) });
    await client.connect(wsUrl);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await sd?.close();
  });

  it("refuses a request without credentials with 401 and a JSON reason, no browser dialog", async () => {
    const r = await fetch(statsUrl);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(r.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await r.json()) as { error?: unknown };
    expect(typeof body.error).toBe("string");
    expect(JSON.stringify(body)).not.toMatch(new RegExp(USER));
  });

  it("refuses a wrong token with 401", async () => {
    const r = await fetch(statsUrl, { headers: { authorization: basic(USER, "wrong token") } });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(await r.json()).toEqual({ error: "invalid user or token" });
  });

  it("refuses a malformed Authorization header without asking the gateway", async () => {
    const before = authenticateCalls;
    const r = await fetch(statsUrl, { headers: { authorization: "Bearer abc" } });
    expect(r.status).toBe(401);
    expect(authenticateCalls).toBe(before);
  });

  it("serves the statistics, with the connected client's row, to the right credentials", async () => {
    const r = await fetch(statsUrl, { headers: { authorization: basic(USER, TOKEN) } });
    expect(r.status).toBe(200);
    const stats = (await r.json()) as GatewayStatsJson;
    expect(stats.attached).toBe(true);
    expect(stats.clients).toEqual([
      expect.objectContaining({
        user: USER,
        peer: expect.stringMatching(/127\.0\.0\.1/),
        pendingCalls: 0,
        connectedAt: expect.any(String),
      }),
    ]);
    expect(Date.parse(stats.clients[0].connectedAt)).toBeLessThanOrEqual(Date.now());
    expect(stats.clientCount).toBe(1);
    expect(stats.traffic).toHaveProperty("calls", expect.any(Number));
  });
});

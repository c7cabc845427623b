/**
 * /stats.json shows a user their own connections and an admin everyone's, and repeated
 * requests do not each run scrypt (real gateway, real HTTP on 127.0.0.1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/auth.js";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { gatewayWebHandler } from "../../src/web/console-handler.js";
import type { GatewayStatsJson } from "../../src/web/stats.js";

const TOKENS = { admin: "admin-secret", alice: "alice-secret", bob: "bob-secret" };
const everything = { services: { allow: ["*"] }, call: { allow: ["*"] } };

function basic(user: string, token: string): string {
  return `Basic ${Buffer.from(`${user}:${token}`, "utf8").toString("base64")}`;
}

describe("/stats.json visibility", () => {
  let sd: Session;
  let gateway: Gateway;
  const sessions: Session[] = [];
  let statsUrl: string;

  beforeAll(async () => {
    sd = new Session();
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
    let gw: Gateway | undefined;
    const users = Object.fromEntries(Object.entries(TOKENS).map(([u, t]) => [u, { token: hashToken(t) }]));
    gw = await startGateway({
      attach: sdUrl,
      listen: ["ws://127.0.0.1:0", "tcp://127.0.0.1:0"],
      authProvider: new GatewayAuthProvider(users),
      permissions: { users: { admin: { ...everything, admin: true }, alice: everything, bob: everything } },
      ws: { httpHandler: gatewayWebHandler("/nonexistent", () => gw) },
    });
    gateway = gw;
    await gateway.waitAttached();
    const wsUrl = gateway.endpoints().find((e) => e.startsWith("ws://"))!;
    const tcpUrl = gateway.endpoints().find((e) => e.startsWith("tcp://"))!;
    statsUrl = `${wsUrl.replace(/^ws:/, "http:").replace(/\/qi$/, "")}/stats.json`;
    for (const user of ["alice", "alice", "bob"] as const) {
      const s = new Session({ authenticator: new UserTokenAuthenticator(user, TOKENS[user]) });
      await s.connect(tcpUrl);
      sessions.push(s);
    }
  }, 30_000);

  afterAll(async () => {
    for (const s of sessions) await s.close();
    await gateway?.close();
    await sd?.close();
  });

  async function statsAs(user: keyof typeof TOKENS): Promise<GatewayStatsJson> {
    const r = await fetch(statsUrl, { headers: { authorization: basic(user, TOKENS[user]) } });
    expect(r.status).toBe(200);
    return (await r.json()) as GatewayStatsJson;
  }

  it("shows alice only her own connections", async () => {
    const stats = await statsAs("alice");
    expect(stats.clients.map((c) => c.user)).toEqual(["alice", "alice"]);
  });

  it("shows an admin every client", async () => {
    const stats = await statsAs("admin");
    expect(stats.clients.map((c) => c.user).sort()).toEqual(["alice", "alice", "bob"]);
  });

  it("answers 200 requests without a scrypt each (correct logins are remembered)", async () => {
    await statsAs("bob");
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const r = await fetch(statsUrl, { headers: { authorization: basic("bob", TOKENS.bob) } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const ms = performance.now() - t0;
    // One scrypt (N=16384) measured now, on this machine's current load: 200 requests that
    // each ran one would take 200 times that; remembered logins take a fraction of it.
    const s0 = performance.now();
    for (let i = 0; i < 5; i++) hashToken(`probe-${i}`);
    const scryptMs = (performance.now() - s0) / 5;
    expect(ms).toBeLessThan((200 * scryptMs) / 4);
  });

  it("still checks a wrong token for a remembered user", async () => {
    const r = await fetch(statsUrl, { headers: { authorization: basic("bob", "not bob's") } });
    expect(r.status).toBe(401);
  });
});

describe("admin right", () => {
  it("is `admin: true` in a user's permissions; without permissions, every user; never anonymous", async () => {
    const { Permissions } = await import("../../src/gateway/index.js");
    const p = new Permissions({ users: { root: { admin: true }, alice: { call: { allow: ["*"] } } } });
    expect(p.isAdmin("root")).toBe(true);
    expect(p.isAdmin("alice")).toBe(false);
    expect(p.isAdmin("mallory")).toBe(false);
    expect(p.isAdmin(undefined)).toBe(false);
    expect(new Permissions(undefined).isAdmin("alice")).toBe(true);
    expect(new Permissions({ default: { call: { allow: ["*"] } } }).isAdmin("alice")).toBe(false);
  });
});

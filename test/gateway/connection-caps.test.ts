/**
 * The gateway's external door: connection caps with a login reserve, the accept deadline and
 * the pre-authentication size limit on ws, through a real gateway on real sockets.
 */
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { validateGatewayConfig } from "../../src/config/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import type { Raw } from "../../src/wire/values.js";
import { capturingLogger, cleanup, client, raw, runCleanup, sleep, until, world } from "./world.js";

afterEach(runCleanup);

const alice = () => ({ authenticator: new UserTokenAuthenticator("alice", "a") });

async function capsWorld(
  limits: Record<string, number>,
  lines: Array<Record<string, unknown>> = [],
  handshakeTimeoutMs?: number,
) {
  const w = await world({
    handshakeTimeoutMs,
    listen: ["tcp://127.0.0.1:0", "ws://127.0.0.1:0"],
    allowAnonymous: false,
    authProvider: new GatewayAuthProvider({ alice: { token: hashToken("a") } }),
    permissions: { users: { alice: { services: { allow: ["*"] }, call: { allow: ["*"] } } } },
    limits,
    metricsAddress: "127.0.0.1:0",
    logger: capturingLogger(lines, "info"),
  });
  const tcpUrl = w.gw.endpoints().find((e) => e.startsWith("tcp://"))!;
  const wsUrl = w.gw.endpoints().find((e) => e.startsWith("ws://"))!;
  return { ...w, tcpUrl, wsUrl };
}

function portOf(url: string): number {
  return Number(new URL(url.replace(/^\w+:/, "http:")).port);
}

/** An idle TCP connection that never says a word (from any 127/8 address). */
function idleTcp(url: string, localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port: portOf(url), localAddress });
    s.on("error", () => {});
    cleanup.push(async () => void s.destroy());
    s.once("connect", () => resolve(s));
    s.once("close", () => reject(new Error("closed before connecting")));
  });
}

/** An upgraded WebSocket that never starts the qi handshake. */
async function idleWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on("error", () => {});
  cleanup.push(async () => ws.terminate());
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("close", j);
  });
  return ws;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(url)).text();
}

describe("gateway connection caps", () => {
  it("idle pre-auth sockets (tcp and ws) cannot lock out a login: the oldest are closed to make room", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const w = await capsWorld({ maxUnauthenticated: 8, maxUnauthenticatedPerAddress: 6 }, lines);
    let t0 = performance.now();
    await client(w.tcpUrl, alice());
    const quiet = performance.now() - t0;
    const flood: Array<Socket | WebSocket> = [];
    for (let i = 0; i < 20; i++) flood.push(await idleTcp(w.tcpUrl, `127.0.0.${2 + (i % 4)}`));
    for (let i = 0; i < 10; i++) flood.push(await idleWs(w.wsUrl));
    t0 = performance.now();
    const s = await client(w.tcpUrl, alice());
    const viaWs = await client(w.wsUrl, alice());
    // Two logins, each delayed by the flood by less than a second (the machine is shared).
    expect(performance.now() - t0 - 2 * quiet).toBeLessThan(1_000);
    // More flood: authenticated clients are never the ones closed.
    for (let i = 0; i < 20; i++) await idleTcp(w.tcpUrl);
    const calc = await s.service("Calc");
    expect(await calc.call("add", 1, 2)).toBe(3);
    expect(await (await viaWs.service("Calc")).call("add", 2, 2)).toBe(4);
    const text = await metrics(w.gw.metricsUrl()!);
    expect(text).toMatch(/qi_gateway_refused_connections_total\{reason="max_unauthenticated"\} [1-9]/);
    expect(text).toMatch(
      /qi_gateway_refused_connections_total\{reason="max_unauthenticated_per_address"\} [1-9]/,
    );
    expect(text).toMatch(/qi_gateway_open_connections\{state="authenticated"\} 3/);
    expect(text).toMatch(/qi_gateway_open_connections\{state="unauthenticated"\} [1-8]\n/);
    // Dozens of refusals, one line (the next comes at the end of the interval).
    const capLines = lines.filter((l) => String(l.msg).startsWith("connection caps"));
    expect(capLines).toHaveLength(1);
  });

  it("when the total is full of authenticated clients a new connection is refused at once; others keep working", async () => {
    const w = await capsWorld({ maxConnections: 2 });
    const a = await client(w.tcpUrl, alice());
    await client(w.wsUrl, alice());
    const t0 = performance.now();
    await expect(client(w.tcpUrl, alice())).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await (await a.service("Calc")).call("add", 1, 1)).toBe(2);
    expect(await metrics(w.gw.metricsUrl()!)).toMatch(
      /qi_gateway_refused_connections_total\{reason="max_connections"\} [1-9]/,
    );
    await a.close();
    await until(() => w.gw.clients().length === 1, "a's slot freed");
    await client(w.tcpUrl, alice());
  });

  it("a ws message over 64 KiB before authentication is refused on its header (1009)", async () => {
    const w = await capsWorld({});
    const ws = await idleWs(w.wsUrl);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send(Buffer.alloc(10_000_000));
    expect(await closed).toBe(1009);
    // After authentication the full limit applies (here over ws, a 1 MB argument each way).
    const s = await client(w.wsUrl, alice());
    const back = (await (await s.service("Calc")).call("echo", raw(1_000_000, 7))) as Raw;
    expect(back.bytes.length).toBe(1_000_000);
  });

  it("a WebSocket upgrade that does not complete within limits.acceptTimeoutMs is closed", async () => {
    const w = await capsWorld({ acceptTimeoutMs: 300 });
    const s = await idleTcp(w.wsUrl);
    s.write("GET / HTTP/1.1\r\nHost: x\r\n");
    const t0 = performance.now();
    await new Promise((r) => s.once("close", r));
    expect(performance.now() - t0).toBeLessThan(2_000);
    await sleep(10);
  });

  it("an upgraded WebSocket that never authenticates is closed by the qi handshake timeout", async () => {
    const w = await capsWorld({}, [], 300);
    const ws = await idleWs(w.wsUrl);
    const t0 = performance.now();
    await new Promise((r) => ws.once("close", r));
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("the caps are configuration keys under limits", () => {
    const c = validateGatewayConfig({
      listen: ["tcp://127.0.0.1:0"],
      limits: {
        maxConnections: 500,
        maxUnauthenticated: 100,
        maxConnectionsPerAddress: 20,
        maxUnauthenticatedPerAddress: 5,
        acceptTimeoutMs: 5000,
      },
    });
    expect(c.limits?.maxUnauthenticated).toBe(100);
    expect(() =>
      validateGatewayConfig({ listen: ["tcp://127.0.0.1:0"], limits: { maxConnections: 0 } }),
    ).toThrow(/maxConnections/);
  });
});

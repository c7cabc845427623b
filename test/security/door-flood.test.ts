/**
 * Issue 10 item 7 (no connection caps: 300 idle unauthenticated sockets blocked every login)
 * and the slow-setup half of item 4 (an HTTP upgrade sent at 1 byte/s stayed open 55 s, a TLS
 * handshake 30 s), against a real gateway process with a canary.
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import { cleanup, login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const MB = 1024 * 1024;
let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

function portOf(url: string): number {
  return Number(/:(\d+)\/?$/.exec(url)![1]);
}

/** An idle TCP connection from `localAddress` (Linux routes all of 127/8 to lo). */
function idleTcp(url: string, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port: portOf(url), localAddress });
    s.on("error", () => {});
    cleanup.push(async () => void s.destroy());
    s.once("connect", () => resolve(s));
    s.once("close", () => resolve(s)); // refused or evicted before connecting: still an attempt
  });
}

/** An upgraded WebSocket that never starts the qi handshake. */
function idleWs(url: string, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
  ws.on("error", () => {});
  cleanup.push(async () => ws.terminate());
  return new Promise((resolve) => {
    ws.once("open", () => resolve(ws));
    ws.once("close", () => resolve(ws));
  });
}

/** ms to log in (connect + authenticate); the session then calls once (and stays open). */
async function timedLogin(url: string, who = USERS.alice): Promise<number> {
  const t0 = performance.now();
  const s = await login(url, who);
  const ms = performance.now() - t0;
  expect(await (await s.service("Calc")).call("add", 40, 2)).toBe(42);
  return ms;
}

/**
 * The fastest of `n` logins in a row: what the door lets through. On a shared machine one login
 * can stall for other reasons; a flood that blocked logins would stall all of them.
 */
async function bestLogin(url: string, n: number, who = USERS.alice): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) best = Math.min(best, await timedLogin(url, who));
  return best;
}

/** The gateway's aggregated cap lines (pino JSON). */
function capLinesOf(lines: string[]): string[] {
  return lines.filter((l) => l.includes('"msg":"connection caps:'));
}

async function healthyCanary(url: string) {
  const canary = await startCanary(url);
  while (canary.calls < 3) await new Promise((r) => setTimeout(r, 50));
  return canary;
}

describe("door: connection floods (real gateway process)", () => {
  it("300 idle pre-auth tcp sockets from 30 addresses and 100 idle ws: logins take < 1 s, the canary never notices", async () => {
    const t = await startTarget();
    const canary = await healthyCanary(t.gateway.tcpUrl);
    const quiet = await bestLogin(t.gateway.tcpUrl, 3);
    const before = t.gateway.rss();
    const flood: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) flood.push(idleTcp(t.gateway.tcpUrl, `127.0.0.${2 + (i % 30)}`));
    for (let i = 0; i < 100; i++) flood.push(idleWs(t.gateway.wsUrl, "127.0.0.1"));
    await Promise.all(flood);
    const tcpMs = await bestLogin(t.gateway.tcpUrl, 3);
    const wsMs = await bestLogin(t.gateway.wsUrl, 3);
    const after = t.gateway.rss();
    console.log(
      `door flood: login ${quiet.toFixed(0)} ms before, during: tcp ${tcpMs.toFixed(0)} ms, ws ${wsMs.toFixed(0)} ms; ` +
        `RSS ${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB`,
    );
    // Logins go through within a second of a quiet one (the machine is shared: the absolute
    // times are printed above).
    expect(Math.max(tcpMs, wsMs) - quiet).toBeLessThan(1_000);
    const capLines = capLinesOf(t.gateway.logLines);
    expect(capLines.length).toBeGreaterThan(0);
    expect(capLines.length).toBeLessThanOrEqual(3); // aggregated: one line per interval
    expect(capLines[0]).toMatch(/max_unauthenticated/);
    expect((await canary.stop()).failures).toEqual([]);
    expect(t.gateway.alive()).toBe(true);
  });

  it.runIf(existsSync("/usr/bin/prlimit"))(
    "the issue's case: gateway at 256 open files, caps sized under it, 300 idle sockets: logins still work",
    async () => {
      const t = await startTarget({
        configure: (c) => {
          c.limits = { maxConnections: 150, maxUnauthenticated: 100 };
        },
      });
      execFileSync("/usr/bin/prlimit", ["--pid", String(t.gateway.pid), "--nofile=256:256"]);
      const canary = await healthyCanary(t.gateway.tcpUrl);
      const quiet = await bestLogin(t.gateway.tcpUrl, 3);
      const flood: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) flood.push(idleTcp(t.gateway.tcpUrl, `127.0.0.${2 + (i % 30)}`));
      await Promise.all(flood);
      const flooded = await bestLogin(t.gateway.tcpUrl, 3);
      const viaWs = await bestLogin(t.gateway.wsUrl, 3);
      console.log(
        `door at 256 fds: login ${quiet.toFixed(0)} ms quiet, ${flooded.toFixed(0)} / ${viaWs.toFixed(0)} ms flooded`,
      );
      expect(Math.max(flooded, viaWs) - quiet).toBeLessThan(1_000);
      expect((await canary.stop()).failures).toEqual([]);
    },
  );

  it("small caps: a flood from 40 addresses cannot take the login reserve; per-address caps hold for authenticated clients too", async () => {
    const t = await startTarget({
      configure: (c) => {
        c.limits = {
          maxConnections: 60,
          maxUnauthenticated: 30,
          maxConnectionsPerAddress: 10,
          maxUnauthenticatedPerAddress: 5,
        };
      },
    });
    const canary = await healthyCanary(t.gateway.tcpUrl); // 127.0.0.1: 1 of its 10
    const quiet = await bestLogin(t.gateway.tcpUrl, 1, USERS.bob);
    for (let i = 0; i < 5; i++) await login(t.gateway.tcpUrl, USERS.bob);
    const flood: Array<Promise<unknown>> = [];
    for (let round = 0; round < 2; round++)
      for (let a = 2; a < 42; a++)
        for (let i = 0; i < 5; i++) flood.push(idleTcp(t.gateway.tcpUrl, `127.0.0.${a}`));
    await Promise.all(flood);
    // 400 idle sockets against 30 pre-auth places: the 8th to 10th connections of 127.0.0.1
    // still log in; the eleventh finds ten authenticated ones there and is refused.
    const flooded = await bestLogin(t.gateway.tcpUrl, 3);
    console.log(
      `door small caps: login ${quiet.toFixed(0)} ms before the flood, ${flooded.toFixed(0)} ms during it`,
    );
    expect(flooded - quiet).toBeLessThan(1_000);
    await expect(login(t.gateway.tcpUrl, USERS.alice)).rejects.toThrow();
    const capLines = capLinesOf(t.gateway.logLines);
    expect(capLines[0]).toMatch(/max_unauthenticated/); // the per-address refusal is in the next line
    expect(capLines.length).toBeLessThanOrEqual(3);
    expect((await canary.stop()).failures).toEqual([]);
  });

  it("an HTTP upgrade and a TLS handshake sent at 1 byte/s are closed at the 10 s default", async () => {
    const dir = join((await import("node:os")).tmpdir(), `qi-door-${process.pid}-${Date.now()}`);
    (await import("node:fs")).mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "gw.crt"), pki.serverCert);
    writeFileSync(join(dir, "gw.key"), pki.serverKey);
    cleanup.push(async () => (await import("node:fs")).rmSync(dir, { recursive: true, force: true }));
    const t = await startTarget({
      configure: (c) => {
        c.listen = [...(c.listen as string[]), "tcps://127.0.0.1:0"];
        c.tls = { cert: join(dir, "gw.crt"), key: join(dir, "gw.key") };
      },
    });
    const canary = await healthyCanary(t.gateway.tcpUrl);
    const tcpsUrl = t.gateway.endpoints.find((e) => e.startsWith("tcps://"))!;
    const slow = async (url: string, text: string): Promise<number> => {
      const s = await idleTcp(url, "127.0.0.7");
      const t0 = performance.now();
      let i = 0;
      const timer = setInterval(() => {
        if (!s.destroyed) s.write(text[i++ % text.length]);
      }, 1_000);
      cleanup.push(async () => clearInterval(timer));
      await new Promise((r) => s.once("close", r));
      clearInterval(timer);
      return performance.now() - t0;
    };
    const [upgrade, tls] = await Promise.all([
      slow(
        t.gateway.wsUrl,
        "GET / HTTP/1.1\r\nHost: robot\r\nUpgrade: websocket\r\nX-Slow: aaaaaaaaaaaaaaaaaa",
      ),
      slow(tcpsUrl, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ]);
    console.log(
      `door slow setup: upgrade closed after ${upgrade.toFixed(0)} ms, TLS after ${tls.toFixed(0)} ms`,
    );
    for (const ms of [upgrade, tls]) {
      expect(ms).toBeGreaterThan(9_000);
      expect(ms).toBeLessThan(12_000);
    }
    expect((await canary.stop()).failures).toEqual([]);
  });
});

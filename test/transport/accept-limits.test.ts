/**
 * What a listener spends on a connection before it is authenticated: WebSocket messages over
 * the pre-authentication limit are refused on their header (never buffered), a TLS handshake or
 * HTTP upgrade gets the accept timeout from the TCP connect however slowly the client sends, and
 * connection caps (Admission) are applied at the TCP accept. Real sockets on 127.0.0.0/8.
 */
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Admission, type AdmissionCap } from "../../src/transport/admission.js";
import type { Channel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { listen } from "../../src/transport/listen.js";
import type { Listener, ListenOptions } from "../../src/transport/options.js";
import type { WsChannel } from "../../src/transport/ws.js";
import { encodeFrame } from "../../src/transport/ws-frame.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import { bytes, closedWith, collect, delay, makeMessage } from "../helpers/channels.js";

const PRE_AUTH = 64 * 1024;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

/** A listener whose accepted channels are handed out in order. */
async function serve(url: string, opts: ListenOptions = {}) {
  const channels: Channel[] = [];
  const waiting: Array<(c: Channel) => void> = [];
  const listener = await listen(url, opts, (ch) => {
    const w = waiting.shift();
    if (w) w(ch);
    else channels.push(ch);
  });
  cleanups.push(() => listener.close());
  const next = (): Promise<Channel> => {
    const ch = channels.shift();
    return ch ? Promise.resolve(ch) : new Promise((r) => waiting.push(r));
  };
  return { listener, next };
}

function port(l: Listener): number {
  return l.port;
}

/** A raw TCP socket to the listener, from `localAddress` (any of 127/8 on Linux). */
function rawSocket(l: Listener, localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port: port(l), localAddress });
    cleanups.push(() => s.destroy());
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves with ms from now until the socket closes. */
function closeTime(s: Socket): Promise<number> {
  const t0 = performance.now();
  return new Promise((r) => {
    s.on("error", () => {});
    if (s.destroyed) r(0);
    s.once("close", () => r(performance.now() - t0));
  });
}

async function wsClient(l: Listener): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port(l)}/`, { perMessageDeflate: false });
  cleanups.push(() => ws.terminate());
  ws.on("error", () => {});
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("error", j);
  });
  return ws;
}

function wsClosed(ws: WebSocket): Promise<number> {
  return new Promise((r) => ws.once("close", (code) => r(code)));
}

describe("ws: the pre-authentication limit is checked on the frame header", () => {
  it("a 50 MB message to a channel at the 64 KiB limit closes it with 1009 before the message is read", async () => {
    const { listener, next } = await serve("ws://127.0.0.1:0");
    const ws = await wsClient(listener);
    const server = await next();
    server.setMaxPayload(PRE_AUTH); // what a server Connection does until the handshake is done
    const reason = closedWith(server);
    const closed = wsClosed(ws);
    ws.send(Buffer.alloc(50_000_000));
    expect((await reason)?.message).toMatch(/announced a 49999972-byte message over the limit of 65536/);
    expect((server as WsChannel).closeCode).toBe(1009);
    await closed;
    // The server stopped reading at the header: a socket read buffer or two, not 50 MB.
    const socket = (server as unknown as { socket: Socket }).socket;
    expect(socket.bytesRead).toBeLessThan(1_000_000);
  });

  it("fragments of one message add up; a message within the limit still passes", async () => {
    const { listener, next } = await serve("ws://127.0.0.1:0");
    const ws = await wsClient(listener);
    const server = await next();
    server.setMaxPayload(PRE_AUTH);
    const got = collect(server, 1);
    ws.send(encodeFrame(makeMessage(1, bytes(PRE_AUTH))));
    expect((await got)[0].payload.length).toBe(PRE_AUTH);
    const reason = closedWith(server);
    for (let i = 0; i < 4; i++) ws.send(Buffer.alloc(20_000), { fin: false });
    expect((await reason)?.message).toMatch(/announced a \d+-byte message over the limit/);
  });

  it("once the limit is raised (authenticated) the library's own limit applies, with no header check", async () => {
    const { listener, next } = await serve("ws://127.0.0.1:0", { maxPayload: 2_000_000 });
    const ws = await wsClient(listener);
    const server = await next();
    server.setMaxPayload(PRE_AUTH);
    server.setMaxPayload(2_000_000);
    const got = collect(server, 1);
    ws.send(encodeFrame(makeMessage(1, bytes(1_500_000))));
    expect((await got)[0].payload.length).toBe(1_500_000);
    const closed = wsClosed(ws);
    ws.send(encodeFrame(makeMessage(2, bytes(2_000_001))));
    expect(await closed).toBe(1009);
  });

  it("a Node client channel to a 64 KiB-limited server gets a clear error", async () => {
    const { listener, next } = await serve("ws://127.0.0.1:0");
    const client = await connect(listener.url, {});
    cleanups.push(() => client.destroy());
    const server = await next();
    server.setMaxPayload(PRE_AUTH);
    const closed = closedWith(client);
    client.send(makeMessage(1, bytes(PRE_AUTH + 1)));
    expect((await closed)?.message).toMatch(/1009/);
  });
});

describe("accept timeout: TCP connect to channel (TLS handshake, HTTP upgrade)", () => {
  /** Sends one byte every 50 ms until the socket closes. */
  function trickle(s: Socket, text: string): void {
    let i = 0;
    const t = setInterval(() => {
      if (s.destroyed) clearInterval(t);
      else s.write(text[i++ % text.length]);
    }, 50);
    cleanups.push(() => clearInterval(t));
  }

  it("ws: an upgrade request sent a byte at a time is closed at the deadline", async () => {
    const { listener } = await serve("ws://127.0.0.1:0", { acceptTimeout: 300 });
    const s = await rawSocket(listener);
    const closed = closeTime(s);
    trickle(s, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Slow: ");
    const ms = await closed;
    expect(ms).toBeGreaterThan(200);
    expect(ms).toBeLessThan(2_000);
  });

  it("ws: a client that upgrades in time is not affected; plain HTTP requests are served", async () => {
    const { listener, next } = await serve("ws://127.0.0.1:0", { acceptTimeout: 300 });
    const ws = await wsClient(listener);
    const server = await next();
    await delay(500);
    expect(server.closed).toBe(false);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const res = await fetch(`http://127.0.0.1:${port(listener)}/`);
    expect(res.status).toBe(404);
  });

  for (const scheme of ["tcps", "tcpsm", "wss"] as const) {
    it(`${scheme}: a TLS handshake trickled a byte at a time is closed at the deadline`, async () => {
      const tls = { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert };
      const errors: Error[] = [];
      const { listener } = await serve(`${scheme}://127.0.0.1:0`, {
        tls,
        acceptTimeout: 300,
        onError: (e) => errors.push(e),
      });
      const s = await rawSocket(listener);
      const closed = closeTime(s);
      trickle(s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
      const ms = await closed;
      expect(ms).toBeGreaterThan(200);
      expect(ms).toBeLessThan(2_000);
      expect(errors.map((e) => e.message).join("\n")).toMatch(/TLS handshake.* not done within 300 ms/);
    });
  }

  it("tcp: no setup phase, so an idle socket is left to the qi handshake timeout", async () => {
    const { listener, next } = await serve("tcp://127.0.0.1:0", { acceptTimeout: 200 });
    const s = await rawSocket(listener);
    const server = await next();
    await delay(500);
    expect(s.destroyed).toBe(false);
    expect(server.closed).toBe(false);
  });
});

describe("connection caps at the TCP accept (Admission)", () => {
  function caps(limits: ConstructorParameters<typeof Admission>[0]) {
    const refused: Array<[AdmissionCap, string, boolean]> = [];
    const admission = new Admission(limits, { onRefused: (c, a, e) => refused.push([c, a, e]) });
    return { admission, refused };
  }

  async function until(cond: () => boolean): Promise<void> {
    while (!cond()) await delay(10);
  }

  it("tcp: a flood from one address evicts its own oldest pre-auth sockets, not other addresses'", async () => {
    const { admission, refused } = caps({ maxUnauthenticatedPerAddress: 3 });
    const { listener } = await serve("tcp://127.0.0.1:0", { admission });
    const other = await rawSocket(listener, "127.0.0.3");
    const flood: Socket[] = [];
    for (let i = 0; i < 6; i++) flood.push(await rawSocket(listener, "127.0.0.2"));
    await Promise.all(flood.slice(0, 3).map(closeTime));
    await until(() => admission.open === 4);
    expect(flood.slice(3).every((s) => !s.destroyed)).toBe(true);
    expect(other.destroyed).toBe(false);
    expect(admission.openFrom("127.0.0.2")).toBe(3);
    expect(refused).toEqual(Array(3).fill(["max_unauthenticated_per_address", "127.0.0.2", true]));
    for (const s of [other, ...flood]) s.destroy();
    await until(() => admission.open === 0);
  });

  it("tcp: when the total is full of authenticated connections the NEW one is closed at once", async () => {
    const { admission, refused } = caps({ maxConnections: 2 });
    const { listener, next } = await serve("tcp://127.0.0.1:0", { admission });
    for (let i = 0; i < 2; i++) {
      await rawSocket(listener);
      (await next()).admission!.authenticate();
    }
    const late = await rawSocket(listener, "127.0.0.4");
    expect(await closeTime(late)).toBeLessThan(1_000);
    expect(refused).toEqual([["max_connections", "127.0.0.4", false]]);
    expect(admission.open).toBe(2);
  });

  for (const scheme of ["tcps", "wss"] as const) {
    it(`${scheme}: connections are counted from the TCP accept and released when they close`, async () => {
      const { admission } = caps({ maxUnauthenticatedPerAddress: 2 });
      const tls = { key: pki.serverKey, cert: pki.serverCert };
      const { listener, next } = await serve(`${scheme}://127.0.0.1:0`, { tls, admission });
      const client = await connect(listener.url, { tls: { ca: pki.caCert, servername: "localhost" } });
      const server = await next();
      expect(server.admission?.authenticated).toBe(false);
      server.admission!.authenticate();
      // Two idle sockets stuck before the handshake; a third evicts the oldest.
      const a = await rawSocket(listener);
      await rawSocket(listener);
      await rawSocket(listener);
      await closeTime(a);
      expect(admission.open).toBe(3);
      expect(client.closed).toBe(false);
      // An evicted channel (unauthenticated) is closed through the channel.
      const c2 = await connect(listener.url, { tls: { ca: pki.caCert, servername: "localhost" } });
      cleanups.push(() => c2.destroy());
      const s2 = await next();
      const gone = closedWith(s2);
      await rawSocket(listener); // evicts the last idle raw socket, then the next one s2
      await rawSocket(listener);
      expect((await gone)?.message).toMatch(/connection caps/);
      expect(client.closed).toBe(false);
      client.destroy();
      await until(() => admission.open === 2);
    });
  }
});

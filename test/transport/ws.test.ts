import { createServer as createHttpServer } from "node:http";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Channel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { TransportError } from "../../src/transport/errors.js";
import { listen } from "../../src/transport/listen.js";
import type { ListenOptions } from "../../src/transport/options.js";
import { registeredSchemes } from "../../src/transport/schemes.js";
import { WsChannel } from "../../src/transport/ws.js";
import { encodeFrame } from "../../src/transport/ws-frame.js";
import { WireError } from "../../src/wire/errors.js";
import { HEADER_SIZE, MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import {
  bytes,
  channelPair,
  closedWith,
  collect,
  deferred,
  delay,
  makeMessage,
  type Pair,
} from "../helpers/channels.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function pair(...args: Parameters<typeof channelPair>): Promise<Pair> {
  const [url, listenOpts, connectOpts, connectUrl] = args;
  const p = await channelPair(url ?? "ws://127.0.0.1:0", listenOpts, connectOpts, connectUrl);
  cleanups.push(() => p.close());
  return p;
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    return e as TransportError;
  }
  throw new Error("expected a rejection");
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await delay(ms);
  return settled;
}

/** A server-side channel plus the raw `ws` client talking to it. */
async function rawClient(
  opts: ListenOptions = {},
  clientOpts: WebSocket.ClientOptions = {},
): Promise<{ ws: WebSocket; server: Channel; url: string }> {
  const accepted = deferred<Channel>();
  const listener = await listen("ws://127.0.0.1:0", opts, (ch) => accepted.resolve(ch));
  cleanups.push(() => listener.close());
  const ws = new WebSocket(`${listener.url}/qi`, clientOpts);
  cleanups.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, server: await accepted.promise, url: listener.url };
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** Opens a raw upgrade with the given Origin; resolves with the HTTP status (101 = accepted). */
function upgradeStatus(url: string, origin: string | undefined, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (origin !== undefined) headers.origin = origin;
    if (host !== undefined) headers.host = host;
    const ws = new WebSocket(url, { headers });
    ws.on("unexpected-response", (req, res) => {
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("error", reject);
  });
}

describe("ws connect / listen", () => {
  it("is registered for ws and wss, publishes ws URLs consistent on both ends", async () => {
    expect(registeredSchemes()).toEqual(expect.arrayContaining(["ws", "wss"]));
    const { listener, client, server } = await pair();
    expect(listener.url).toBe(`ws://127.0.0.1:${listener.port}`);
    expect(listener.endpoints()).toEqual([listener.url]);
    expect(client).toBeInstanceOf(WsChannel);
    expect(client.remoteUrl).toBe(listener.url);
    expect(server.localUrl).toBe(listener.url);
    expect(server.remoteUrl).toBe(client.localUrl);
    expect(server.remoteAddress).toBe("127.0.0.1");
    expect(client.isSecure).toBe(false);
  });

  it("listening on 0.0.0.0 publishes one ws endpoint per interface address, loopback first", async () => {
    const l = await listen("ws://0.0.0.0:0", {}, () => {});
    cleanups.push(() => l.close());
    const eps = l.endpoints();
    expect(eps[0]).toBe(`ws://127.0.0.1:${l.port}`);
    for (const e of eps) expect(e).toMatch(/^ws:\/\//);
  });

  it("carries messages both ways with headers and payload bytes intact", async () => {
    const { client, server } = await pair();
    const m1 = makeMessage(1, bytes(100, 7), {
      type: MessageType.Event,
      flags: MessageFlags.DynamicPayload | MessageFlags.ReturnType,
      service: 0xffffffff,
      object: 0x12345678,
      action: 0xfffffffe,
    });
    const m2 = makeMessage(0xffffffff, new Uint8Array(0), { type: MessageType.Reply });
    const got = collect(server, 2);
    client.send(m1);
    client.send(m2);
    const [a, b] = await got;
    for (const [x, y] of [
      [a, m1],
      [b, m2],
    ] as const) {
      expect({ ...x, payload: [...x.payload] }).toMatchObject({ ...y, payload: [...y.payload] });
    }
    const back = collect(client, 1);
    server.send(makeMessage(5, bytes(3000, 3), { type: MessageType.Reply }));
    expect([...(await back)[0].payload]).toEqual([...bytes(3000, 3)]);
  });

  it("delivers many messages in order in both directions", async () => {
    const { client, server } = await pair();
    const n = 2000;
    const atServer = collect(server, n);
    const atClient = collect(client, n);
    for (let i = 1; i <= n; i++) {
      client.send(makeMessage(i, bytes(i % 300, i)));
      server.send(makeMessage(i, bytes(i % 200, i + 1)));
    }
    const [s, c] = await Promise.all([atServer, atClient]);
    expect(s.map((m) => m.id)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(c.map((m) => m.id)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect([...s[1234].payload]).toEqual([...bytes(1235 % 300, 1235)]);
  });

  it("carries a 5 MiB payload intact both ways", async () => {
    const { client, server } = await pair();
    const big = bytes(5 * 1024 * 1024, 11);
    const atServer = collect(server, 1);
    await client.sendAsync(makeMessage(1, big));
    expect(Buffer.from((await atServer)[0].payload).equals(big)).toBe(true);
    const atClient = collect(client, 1);
    await server.sendAsync(makeMessage(2, big));
    expect(Buffer.from((await atClient)[0].payload).equals(big)).toBe(true);
  });

  it("queues messages that arrive before the first onMessage handler", async () => {
    const { client, server } = await pair();
    for (let i = 1; i <= 5; i++) client.send(makeMessage(i, bytes(10, i)));
    await delay(50);
    const got = await collect(server, 5);
    expect(got.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it("refuses a header it cannot encode without sending anything", async () => {
    const { client, server } = await pair();
    const got = collect(server, 1);
    expect(() => client.send(makeMessage(-1, bytes(1)))).toThrow(WireError);
    await expect(client.sendAsync(makeMessage(2 ** 32, bytes(3)))).rejects.toThrow(WireError);
    client.send(makeMessage(2, bytes(1)));
    expect((await got)[0].id).toBe(2);
  });

  it("accepts an upgrade on any path (ws://host:port/qi)", async () => {
    const accepted = deferred<Channel>();
    const l = await listen("ws://127.0.0.1:0", {}, (ch) => accepted.resolve(ch));
    cleanups.push(() => l.close());
    const client = await connect(`${l.url}/qi`);
    cleanups.push(() => client.destroy());
    const server = await accepted.promise;
    const got = collect(server, 1);
    client.send(makeMessage(7, bytes(5)));
    expect((await got)[0].id).toBe(7);
  });

  it("serves plain HTTP requests with httpHandler, 404 without", async () => {
    const l = await listen(
      "ws://127.0.0.1:0",
      {
        ws: {
          httpHandler: (req, res) => {
            res.writeHead(200, { "content-type": "text/plain" });
            res.end(`hello ${req.url}`);
          },
        },
      },
      () => {},
    );
    cleanups.push(() => l.close());
    const l2 = await listen("ws://127.0.0.1:0", {}, () => {});
    cleanups.push(() => l2.close());
    const fetchText = async (u: string) => {
      const r = await fetch(u);
      return { status: r.status, text: await r.text() };
    };
    expect(await fetchText(`http://127.0.0.1:${l.port}/x`)).toEqual({ status: 200, text: "hello /x" });
    expect((await fetchText(`http://127.0.0.1:${l2.port}/`)).status).toBe(404);
  });
});

describe("ws errors", () => {
  it("connect to a closed port fails with ERR_CONNECT; a non-WebSocket HTTP server too", async () => {
    const l = await listen("ws://127.0.0.1:0", {}, () => {});
    const port = l.port;
    await l.close();
    expect((await rejection(connect(`ws://127.0.0.1:${port}`))).code).toBe("QI_ERR_TRANSPORT_CONNECT");

    const http = createHttpServer((_req, res) => {
      res.writeHead(200);
      res.end("plain");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => http.close(r)));
    const e = await rejection(connect(`ws://127.0.0.1:${(http.address() as { port: number }).port}`));
    expect(e.code).toBe("QI_ERR_TRANSPORT_CONNECT");
    expect(e.message).toMatch(/refused the WebSocket upgrade|socket hang up|Unexpected server response/);
  });

  it("a text frame closes with 1008 and a reason", async () => {
    const { ws, server } = await rawClient();
    const closed = closeOf(ws);
    const reason = closedWith(server);
    ws.send("hello");
    const c = await closed;
    expect(c.code).toBe(1008);
    expect(c.reason).toMatch(/binary/);
    expect((await reason)?.message).toMatch(/text frame/);
  });

  const badFrames: Array<[string, () => Uint8Array, RegExp]> = [
    ["a frame shorter than a header", () => new Uint8Array(10), /cannot hold a qi message/],
    [
      "a header announcing more than the frame holds",
      () => encodeFrame(makeMessage(1, bytes(100))).subarray(0, HEADER_SIZE + 50),
      /announces a 100-byte payload/,
    ],
    [
      "two messages in one frame",
      () => Buffer.concat([encodeFrame(makeMessage(1, bytes(5))), encodeFrame(makeMessage(2, bytes(5)))]),
      /one WebSocket message must hold exactly one qi message/,
    ],
    [
      "bad magic",
      () => {
        const f = encodeFrame(makeMessage(1, bytes(5)));
        f[0] = 0;
        return f;
      },
      /bad magic/,
    ],
  ];
  for (const [what, frame, text] of badFrames) {
    it(`${what} closes with 1007 and a reason; other clients are unaffected`, async () => {
      const accepted: Channel[] = [];
      const l = await listen("ws://127.0.0.1:0", {}, (ch) => accepted.push(ch));
      cleanups.push(() => l.close());
      const good = await connect(l.url);
      cleanups.push(() => good.destroy());
      const bad = new WebSocket(l.url);
      cleanups.push(() => bad.terminate());
      await new Promise((r) => bad.once("open", r));
      while (accepted.length < 2) await delay(5);
      const closed = closeOf(bad);
      bad.send(frame());
      const c = await closed;
      expect(c.code).toBe(1007);
      expect(c.reason).toMatch(text);
      // the good client still talks to its server channel
      const goodServer = accepted.find((ch) => !ch.closed)!;
      const got = collect(good, 1);
      goodServer.send(makeMessage(9, bytes(9)));
      expect((await got)[0].id).toBe(9);
      expect(good.closed).toBe(false);
    });
  }

  it("a message over maxPayload closes with 1009 (both directions)", async () => {
    const { ws, server } = await rawClient({ maxPayload: 1000 });
    const closed = closeOf(ws);
    const reason = closedWith(server);
    ws.send(encodeFrame(makeMessage(1, bytes(1001))));
    expect((await closed).code).toBe(1009);
    expect((await reason)?.message).toMatch(/limit of 1000/);

    // A Node client with a small maxPayload refuses what the server sends.
    const p = await pair("ws://127.0.0.1:0", {}, { maxPayload: 1000 });
    const cr = closedWith(p.client);
    const sr = closedWith(p.server);
    p.server.send(makeMessage(1, bytes(1000))); // exactly at the limit: fine
    expect((await collect(p.client, 1))[0].payload.length).toBe(1000);
    p.server.send(makeMessage(2, bytes(2000)));
    expect((await cr)?.message).toMatch(/over the limit/);
    expect((await sr)?.message).toMatch(/1009/);
    expect((p.server as WsChannel).closeCode).toBe(1009);
  });

  it("a message handler that throws closes the channel with that error", async () => {
    const { client, server } = await pair();
    const boom = new Error("boom");
    server.onMessage(() => {
      throw boom;
    });
    const r = closedWith(server);
    client.send(makeMessage(1, bytes(1)));
    expect(await r).toBe(boom);
  });
});

describe("Origin allow-list", () => {
  it("accepts clients without Origin, same-origin pages and listed origins; refuses others with 403", async () => {
    const errors: Error[] = [];
    const l = await listen(
      "ws://127.0.0.1:0",
      { ws: { allowedOrigins: ["https://console.example"] }, onError: (e) => errors.push(e) },
      (ch) => cleanups.push(() => ch.destroy()),
    );
    cleanups.push(() => l.close());
    const url = l.url;
    expect(await upgradeStatus(url, undefined)).toBe(101);
    expect(await upgradeStatus(url, "https://console.example")).toBe(101);
    expect(await upgradeStatus(url, "https://CONSOLE.example/")).toBe(101);
    expect(await upgradeStatus(url, `http://127.0.0.1:${l.port}`)).toBe(101); // same origin
    expect(await upgradeStatus(url, `http://localhost:${l.port}`, `localhost:${l.port}`)).toBe(101);
    expect(await upgradeStatus(url, "https://evil.example")).toBe(403);
    expect(await upgradeStatus(url, "null")).toBe(403);
    expect(await upgradeStatus(url, `https://127.0.0.1:${l.port}`)).toBe(403); // wrong scheme
    expect(await upgradeStatus(url, "http://127.0.0.1:1")).toBe(403); // other port
    // DNS rebinding: a foreign name resolving to us, Origin and Host agree but the name is not ours
    expect(await upgradeStatus(url, `http://rebind.example:${l.port}`, `rebind.example:${l.port}`)).toBe(403);
    expect(errors.some((e) => /evil\.example is not allowed/.test(e.message))).toBe(true);
  });

  it("without an allow-list only Origin-less and same-origin requests pass", async () => {
    const l = await listen("ws://127.0.0.1:0", {}, (ch) => cleanups.push(() => ch.destroy()));
    cleanups.push(() => l.close());
    expect(await upgradeStatus(l.url, undefined)).toBe(101);
    expect(await upgradeStatus(l.url, `http://127.0.0.1:${l.port}`)).toBe(101);
    expect(await upgradeStatus(l.url, "https://console.example")).toBe(403);
  });
});

describe("closing", () => {
  for (const side of ["client", "server"] as const) {
    it(`close() on the ${side} flushes, sends 1000 and fires onClose exactly once on both ends`, async () => {
      const p = await pair();
      const [closer, peer] = side === "client" ? [p.client, p.server] : [p.server, p.client];
      const a = closedWith(closer);
      const b = closedWith(peer);
      const last = collect(peer, 1);
      closer.send(makeMessage(1, bytes(100_000)));
      closer.close();
      closer.close();
      const ra = await a;
      const rb = await b;
      expect(Buffer.from((await last)[0].payload).equals(bytes(100_000))).toBe(true);
      expect(ra).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
      expect(ra?.message).toMatch(/closed locally/);
      expect(rb).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
      expect(rb?.message).toMatch(/closed by peer \(1000\)/);
      await delay(50);
      expect(a.calls()).toBe(1);
      expect(b.calls()).toBe(1);
    });
  }

  it("close(reason) passes the reason; destroy() is seen by the peer; send after close throws", async () => {
    const p = await pair();
    const mine = new Error("shutting down");
    const a = closedWith(p.client);
    const b = closedWith(p.server);
    p.client.close(mine);
    expect(await a).toBe(mine);
    expect(await b).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
    expect(() => p.client.send(makeMessage(1, bytes(1)))).toThrow(TransportError);
    await expect(p.client.sendAsync(makeMessage(1, bytes(1)))).rejects.toHaveProperty(
      "code",
      "QI_ERR_TRANSPORT_CLOSED",
    );
    const late: unknown[] = [];
    p.client.onClose((r) => late.push(r));
    await delay(5);
    expect(late).toEqual([mine]);

    const q = await pair();
    const c = closedWith(q.client);
    q.server.destroy();
    expect(await c).toHaveProperty("message", expect.stringMatching(/lost \(1006/));
  });

  it("listener.close() closes the channels it accepted and stops accepting", async () => {
    const p = await pair();
    const a = closedWith(p.client);
    const b = closedWith(p.server);
    await p.listener.close();
    expect(await b).toHaveProperty("message", expect.stringMatching(/listener .* closed/));
    expect(await a).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
    expect((await rejection(connect(p.listener.url))).code).toBe("QI_ERR_TRANSPORT_CONNECT");
  });
});

describe("backpressure", () => {
  it("a receiver that pauses holds the sender back (bufferedAmount); resume() drains", async () => {
    const hwm = 512 * 1024;
    const p = await pair("ws://127.0.0.1:0", {}, { highWaterMark: hwm });
    let got = 0;
    p.server.onMessage(() => {
      got++;
    });
    p.server.pause();
    const payload = bytes(32 * 1024, 9);
    let blocked: Promise<void> | undefined;
    let sent = 0;
    let maxBuffered = 0;
    for (let i = 0; i < 20_000 && !blocked; i++) {
      const s = p.client.sendAsync(makeMessage(i + 1, payload));
      sent++;
      maxBuffered = Math.max(maxBuffered, p.client.bufferedBytes);
      if (!(await settlesWithin(s, p.client.bufferedBytes > hwm ? 300 : 0))) blocked = s;
    }
    expect(blocked).toBeDefined();
    expect(maxBuffered).toBeLessThanOrEqual(hwm + HEADER_SIZE + payload.byteLength);
    expect(p.client.send(makeMessage(999_999, payload))).toBe(false);
    sent++;
    p.server.resume();
    await blocked;
    while (got < sent) await delay(10);
    expect(got).toBe(sent);
  });

  it("pending sendAsync calls reject with ERR_CLOSED when the channel closes", async () => {
    const p = await pair("ws://127.0.0.1:0", {}, { highWaterMark: 64 * 1024 });
    p.server.pause();
    const payload = bytes(64 * 1024, 1);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const s = p.client.sendAsync(makeMessage(i + 1, payload));
      s.catch(() => {});
      pending.push(s);
    }
    p.client.destroy();
    const results = await Promise.allSettled(pending);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected)
      expect((r as PromiseRejectedResult).reason).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
  });
});

describe("wss", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki();
  });

  it("verifies the server certificate against the given CA and carries a 2 MiB payload", async () => {
    const p = await pair(
      "wss://127.0.0.1:0",
      { tls: { key: pki.serverKey, cert: pki.serverCert } },
      { tls: { ca: pki.caCert } },
    );
    expect(p.listener.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(p.client.isSecure).toBe(true);
    expect(p.client.peerCertificate?.subject?.CN).toBe("localhost");
    const big = bytes(2 * 1024 * 1024, 4);
    const got = collect(p.server, 1);
    await p.client.sendAsync(makeMessage(1, big));
    expect(Buffer.from((await got)[0].payload).equals(big)).toBe(true);
  });

  it("fails with ERR_TLS against an untrusted certificate; accepts a pinned one", async () => {
    const l = await listen("wss://127.0.0.1:0", { tls: { key: pki.serverKey, cert: pki.serverCert } }, (ch) =>
      cleanups.push(() => ch.destroy()),
    );
    cleanups.push(() => l.close());
    const e = await rejection(connect(l.url, { tls: { ca: pki.otherCaCert } }));
    expect(e.code).toBe("QI_ERR_TRANSPORT_TLS");
    const { X509Certificate } = await import("node:crypto");
    const fp = new X509Certificate(pki.serverCert).fingerprint256;
    const ch = await connect(l.url, { tls: { pinnedSha256: fp } });
    expect(ch.isSecure).toBe(true);
    ch.destroy();
    const bad = await rejection(connect(l.url, { tls: { pinnedSha256: "00".repeat(32) } }));
    expect(bad.code).toBe("QI_ERR_TRANSPORT_TLS");
    expect(bad.message).toMatch(/pinned fingerprint/);
  });

  it("a wss listener needs a key and a certificate", async () => {
    expect((await rejection(listen("wss://127.0.0.1:0", {}, () => {}))).code).toBe(
      "QI_ERR_TRANSPORT_BAD_OPTIONS",
    );
  });

  it("same-origin for wss means https://host:port", async () => {
    const l = await listen("wss://127.0.0.1:0", { tls: { key: pki.serverKey, cert: pki.serverCert } }, (ch) =>
      cleanups.push(() => ch.destroy()),
    );
    cleanups.push(() => l.close());
    const status = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(l.url, { ca: pki.caCert, headers: { origin } });
        ws.on("unexpected-response", (req, res) => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        ws.once("open", () => {
          ws.terminate();
          resolve(101);
        });
        ws.once("error", reject);
      });
    expect(await status(`https://127.0.0.1:${l.port}`)).toBe(101);
    expect(await status(`http://127.0.0.1:${l.port}`)).toBe(403);
  });
});

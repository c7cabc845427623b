import { createServer, connect as netConnect, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import type { Channel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { TransportError } from "../../src/transport/errors.js";
import { listen } from "../../src/transport/listen.js";
import { registerScheme, unregisterScheme } from "../../src/transport/schemes.js";
import { formatUrl } from "../../src/transport/url.js";
import { WireError } from "../../src/wire/errors.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
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
  const p = await channelPair(...args);
  cleanups.push(() => p.close());
  return p;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function hasIPv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === "::1"));
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

describe("tcp connect / listen", () => {
  it("publishes the real port and consistent URLs on both ends", async () => {
    const { listener, client, server } = await pair();
    expect(listener.port).toBeGreaterThan(0);
    expect(listener.url).toBe(`tcp://127.0.0.1:${listener.port}`);
    expect(listener.endpoints()).toEqual([listener.url]);
    expect(client.remoteUrl).toBe(listener.url);
    expect(server.localUrl).toBe(listener.url);
    expect(server.remoteUrl).toBe(client.localUrl);
    expect(client.remoteAddress).toBe("127.0.0.1");
    expect(server.remoteAddress).toBe("127.0.0.1");
    expect(client.isSecure).toBe(false);
    expect(client.peerCertificate).toBeUndefined();
    expect(client.closed).toBe(false);
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
    const atServer = collect(server, 2);
    expect(client.send(m1)).toBe(true);
    expect(client.send(m2)).toBe(true);
    const got = await atServer;
    expect(got[0]).toEqual({ ...m1, size: 100, version: 0 });
    expect(got[1]).toEqual({ ...m2, size: 0, version: 0 });

    const atClient = collect(client, 1);
    await server.sendAsync(makeMessage(9, bytes(10, 3), { type: MessageType.Error }));
    const [back] = await atClient;
    expect(back.id).toBe(9);
    expect(back.type).toBe(MessageType.Error);
    expect(back.payload).toEqual(bytes(10, 3));
  });

  it("delivers many messages in order in both directions", async () => {
    const { client, server } = await pair();
    const N = 2000;
    const atServer = collect(server, N);
    const atClient = collect(client, N);
    for (let i = 0; i < N; i++) {
      client.send(makeMessage(i + 1, bytes(i % 300, i + 1)));
      server.send(makeMessage(i + 1, bytes((i * 7) % 500, i + 2), { type: MessageType.Reply }));
    }
    const [s, c] = await Promise.all([atServer, atClient]);
    for (let i = 0; i < N; i++) {
      expect(s[i].id).toBe(i + 1);
      expect(Buffer.from(s[i].payload).equals(bytes(i % 300, i + 1))).toBe(true);
      expect(c[i].id).toBe(i + 1);
      expect(Buffer.from(c[i].payload).equals(bytes((i * 7) % 500, i + 2))).toBe(true);
    }
  });

  it("keeps order when small messages (coalesced) and large ones (written by reference) interleave", async () => {
    const { client, server } = await pair();
    // Sizes around the coalescing threshold and the batch sizes, sent in one tick.
    const sizes = [0, 5, 16 * 1024, 16 * 1024 + 1, 3, 200_000, 1000, 70_000, 0, 300_000, 7, 1 << 20, 12];
    const N = sizes.length * 20;
    const atServer = collect(server, N);
    for (let i = 0; i < N; i++) client.send(makeMessage(i + 1, bytes(sizes[i % sizes.length], i + 1)));
    // Queued and not yet written: counted as buffered.
    expect(client.bufferedBytes).toBeGreaterThan(0);
    const got = await atServer;
    for (let i = 0; i < N; i++) {
      expect(got[i].id).toBe(i + 1);
      expect(Buffer.from(got[i].payload).equals(bytes(sizes[i % sizes.length], i + 1))).toBe(true);
    }
  });

  it("close() right after send() still delivers what was sent", async () => {
    const { client, server } = await pair();
    const atServer = collect(server, 3);
    client.send(makeMessage(1, bytes(10)));
    client.send(makeMessage(2, bytes(100_000)));
    client.send(makeMessage(3, bytes(20)));
    client.close();
    expect((await atServer).map((m) => m.id)).toEqual([1, 2, 3]);
  });

  it("carries a 5 MiB payload intact both ways", async () => {
    const { client, server } = await pair();
    const big = bytes(5 * 1024 * 1024, 42);
    const atServer = collect(server, 2);
    await client.sendAsync(makeMessage(1, big));
    client.send(makeMessage(2, bytes(3, 1)));
    const got = await atServer;
    expect(got[0].payload.byteLength).toBe(big.byteLength);
    expect(Buffer.from(got[0].payload).equals(Buffer.from(big))).toBe(true);
    expect(got[1].payload).toEqual(bytes(3, 1));

    const atClient = collect(client, 1);
    await server.sendAsync(makeMessage(3, big));
    const [back] = await atClient;
    expect(Buffer.from(back.payload).equals(Buffer.from(big))).toBe(true);
  });

  it("queues messages that arrive before the first onMessage handler", async () => {
    const ready = deferred<Channel>();
    const listener = await listen("tcp://127.0.0.1:0", {}, (ch) => {
      ch.send(makeMessage(1, bytes(5)));
      ch.send(makeMessage(2, bytes(6)));
      ready.resolve(ch);
    });
    cleanups.push(() => listener.close());
    const client = await connect(listener.url);
    cleanups.push(() => client.destroy());
    await ready.promise;
    await delay(100);
    const got = await collect(client, 2);
    expect(got.map((m) => m.id)).toEqual([1, 2]);
  });

  it("refuses a header it cannot encode without writing anything", async () => {
    const { client, server } = await pair();
    const atServer = collect(server, 1);
    expect(() => client.send(makeMessage(-1, bytes(3)))).toThrow(WireError);
    await expect(client.sendAsync(makeMessage(2 ** 32, bytes(3)))).rejects.toThrow(WireError);
    client.send(makeMessage(5, bytes(3)));
    expect((await atServer)[0].id).toBe(5);
  });

  it("supports several handlers and unsubscribing", async () => {
    const { client, server } = await pair();
    const a: number[] = [];
    const offA = server.onMessage((m) => a.push(m.id));
    const b = collect(server, 2);
    client.send(makeMessage(1, bytes(1)));
    await delay(50);
    offA();
    client.send(makeMessage(2, bytes(1)));
    expect((await b).map((m) => m.id)).toEqual([1, 2]);
    expect(a).toEqual([1]);
  });

  it("works over IPv6 loopback", async (ctx) => {
    if (!hasIPv6Loopback()) ctx.skip();
    const { listener, client, server } = await pair("tcp://[::1]:0");
    expect(listener.url).toBe(`tcp://[::1]:${listener.port}`);
    expect(client.remoteUrl).toBe(listener.url);
    expect(server.remoteAddress).toBe("::1");
    const got = collect(server, 1);
    client.send(makeMessage(1, bytes(1000)));
    expect((await got)[0].payload).toEqual(bytes(1000));
  });

  it("listening on 0.0.0.0 publishes one endpoint per IPv4 interface address, loopback first", async () => {
    const channels: Channel[] = [];
    const listener = await listen("tcp://0.0.0.0:0", {}, (ch) => channels.push(ch));
    cleanups.push(() => listener.close());
    const eps = listener.endpoints();
    const v4 = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .filter((i) => String(i.family) === "IPv4" || String(i.family) === "4")
      .map((i) => i.address);
    expect(eps).toContain(`tcp://127.0.0.1:${listener.port}`);
    expect(eps.length).toBe(new Set(v4).size);
    expect(eps[0]).toBe(`tcp://127.0.0.1:${listener.port}`);
    for (const ep of eps) expect(ep).toMatch(new RegExp(`^tcp://[0-9.]+:${listener.port}$`));
    expect(listener.url).toBe(`tcp://0.0.0.0:${listener.port}`);
    const client = await connect(`tcp://127.0.0.1:${listener.port}`);
    cleanups.push(() => client.destroy());
    const got = deferred<number>();
    await delay(20);
    channels[0].onMessage((m) => got.resolve(m.id));
    client.send(makeMessage(77, bytes(1)));
    expect(await got.promise).toBe(77);
  });

  it("listening on :: publishes IPv4 and IPv6 endpoints (no link-local), dual stack", async (ctx) => {
    if (!hasIPv6Loopback()) ctx.skip();
    const channels: Channel[] = [];
    const listener = await listen("tcp://[::]:0", {}, (ch) => channels.push(ch));
    cleanups.push(() => listener.close());
    const eps = listener.endpoints();
    expect(eps).toContain(`tcp://127.0.0.1:${listener.port}`);
    expect(eps).toContain(`tcp://[::1]:${listener.port}`);
    expect(eps.some((e) => /\[fe[89ab]/i.test(e))).toBe(false);
    expect(eps.slice(0, 2)).toEqual([`tcp://127.0.0.1:${listener.port}`, `tcp://[::1]:${listener.port}`]);
    for (const url of [`tcp://127.0.0.1:${listener.port}`, `tcp://[::1]:${listener.port}`]) {
      const client = await connect(url);
      cleanups.push(() => client.destroy());
      expect(client.remoteUrl).toBe(url);
    }
    await delay(20);
    expect(channels.map((c) => c.remoteAddress).sort()).toEqual(["127.0.0.1", "::1"]);
  });

  it("the scheme table is extensible", async () => {
    const seen: string[] = [];
    registerScheme("ws", {
      connect: async (url) => {
        seen.push(formatUrl(url));
        throw new TransportError("QI_ERR_TRANSPORT_CONNECT", "fake");
      },
      listen: async () => {
        throw new TransportError("QI_ERR_TRANSPORT_LISTEN", "fake");
      },
    });
    try {
      expect((await rejection(connect("ws://127.0.0.1:1/qi"))).message).toBe("fake");
      expect(seen).toEqual(["ws://127.0.0.1:1/qi"]);
    } finally {
      unregisterScheme("ws");
    }
    expect((await rejection(connect("ws://127.0.0.1:1/qi"))).code).toBe(
      "QI_ERR_TRANSPORT_UNSUPPORTED_SCHEME",
    );
  });

  it("listening on a taken port fails with ERR_LISTEN", async () => {
    const first = await listen("tcp://127.0.0.1:0", {}, () => {});
    cleanups.push(() => first.close());
    const err = await rejection(listen(first.url, {}, () => {}));
    expect(err.code).toBe("QI_ERR_TRANSPORT_LISTEN");
    expect(err.message).toMatch(/address already in use/);
  });
});

describe("tcp errors", () => {
  it("connect to a closed port fails quickly with ERR_CONNECT", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await rejection(connect(`tcp://127.0.0.1:${port}`));
    expect(err.code).toBe("QI_ERR_TRANSPORT_CONNECT");
    expect(err.message).toContain(`tcp://127.0.0.1:${port}`);
    expect((err.cause as { code?: string }).code).toBe("ECONNREFUSED");
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("rejects URLs it cannot connect to", async () => {
    expect((await rejection(connect("qi:ServiceDirectory"))).code).toBe(
      "QI_ERR_TRANSPORT_UNSUPPORTED_SCHEME",
    );
    expect((await rejection(connect("ws://127.0.0.1:1/"))).code).toBe("QI_ERR_TRANSPORT_UNSUPPORTED_SCHEME");
    expect((await rejection(connect("tcp://127.0.0.1:0"))).code).toBe("QI_ERR_TRANSPORT_BAD_URL");
    expect((await rejection(connect("tcp://127.0.0.1:x"))).code).toBe("QI_ERR_TRANSPORT_BAD_URL");
    expect((await rejection(listen("qi:Foo", {}, () => {}))).code).toBe(
      "QI_ERR_TRANSPORT_UNSUPPORTED_SCHEME",
    );
  });

  it("a connect timeout (peer never completes the TLS handshake) gives ERR_TIMEOUT", async () => {
    const silent = createServer(() => {});
    const sockets: Socket[] = [];
    silent.on("connection", (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => silent.close(r));
    });
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    const err = await rejection(connect(`tcps://127.0.0.1:${port}`, { timeout: 200 }));
    expect(err.code).toBe("QI_ERR_TRANSPORT_TIMEOUT");
    expect(err.message).toMatch(/timed out after 200 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);

    const ac = new AbortController();
    const p = connect(`tcps://127.0.0.1:${port}`, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await rejection(p)).code).toBe("QI_ERR_TRANSPORT_ABORTED");
  });

  it("an oversized payload from the peer closes the channel with ERR_PAYLOAD_TOO_LARGE", async () => {
    const { client, server } = await pair("tcp://127.0.0.1:0", { maxPayload: 1024 });
    const serverClosed = closedWith(server);
    const clientClosed = closedWith(client);
    const seen: number[] = [];
    server.onMessage((m) => seen.push(m.id));
    client.send(makeMessage(1, bytes(1024)));
    client.send(makeMessage(2, bytes(1025)));
    const reason = await serverClosed;
    expect(reason).toBeInstanceOf(WireError);
    expect((reason as WireError).code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(seen).toEqual([1]);
    expect(server.closed).toBe(true);
    expect(server.closeReason).toBe(reason);
    const clientReason = await clientClosed;
    expect(clientReason).toBeInstanceOf(TransportError);
    expect((clientReason as TransportError).code).toBe("QI_ERR_TRANSPORT_CLOSED");
  });

  it("garbage bytes close the channel with ERR_BAD_MAGIC", async () => {
    const accepted = deferred<Channel>();
    const listener = await listen("tcp://127.0.0.1:0", {}, (ch) => accepted.resolve(ch));
    cleanups.push(() => listener.close());
    const raw = netConnect(listener.port, "127.0.0.1");
    const rawClosed = new Promise<void>((r) => raw.on("close", () => r()));
    raw.on("error", () => {});
    const ch = await accepted.promise;
    const closed = closedWith(ch);
    ch.onMessage(() => {
      throw new Error("no message expected");
    });
    raw.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const reason = await closed;
    expect((reason as WireError).code).toBe("QI_ERR_WIRE_BAD_MAGIC");
    await rawClosed;
  });

  it("a message handler that throws closes the channel with that error", async () => {
    const { client, server } = await pair();
    const boom = new Error("handler bug");
    server.onMessage(() => {
      throw boom;
    });
    const closed = closedWith(server);
    client.send(makeMessage(1, bytes(1)));
    expect(await closed).toBe(boom);
  });
});

describe("closing", () => {
  for (const side of ["client", "server"] as const) {
    it(`close() on the ${side} fires onClose exactly once on both ends`, async () => {
      const p = await pair();
      const [closer, peer] = side === "client" ? [p.client, p.server] : [p.server, p.client];
      const a = closedWith(closer);
      const b = closedWith(peer);
      const lastMessage = collect(peer, 1);
      closer.send(makeMessage(1, bytes(100_000)));
      closer.close();
      closer.close();
      const ra = await a;
      const rb = await b;
      // flushed before FIN
      expect(Buffer.from((await lastMessage)[0].payload).equals(bytes(100_000))).toBe(true);
      expect(ra).toBeInstanceOf(TransportError);
      expect((ra as TransportError).code).toBe("QI_ERR_TRANSPORT_CLOSED");
      expect(ra?.message).toMatch(/closed locally/);
      expect(rb).toBeInstanceOf(TransportError);
      expect((rb as TransportError).code).toBe("QI_ERR_TRANSPORT_CLOSED");
      expect(rb?.message).toMatch(/closed by peer/);
      await delay(50);
      expect(a.calls()).toBe(1);
      expect(b.calls()).toBe(1);
      expect(closer.closed && peer.closed).toBe(true);
    });
  }

  it("close(reason) passes the reason; destroy() is seen by the peer", async () => {
    const p = await pair();
    const mine = new Error("shutting down");
    const a = closedWith(p.client);
    const b = closedWith(p.server);
    p.client.close(mine);
    expect(await a).toBe(mine);
    expect((await b) as TransportError).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");

    const q = await pair();
    const c = closedWith(q.server);
    const d = closedWith(q.client);
    q.server.destroy();
    expect(await c).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
    expect(await d).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
  });

  it("onClose added after the close still fires once; send after close throws ERR_CLOSED", async () => {
    const { client } = await pair();
    client.close();
    const calls: Array<Error | undefined> = [];
    client.onClose((r) => calls.push(r));
    await delay(10);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBe(client.closeReason);
    expect(() => client.send(makeMessage(1, bytes(1)))).toThrow(TransportError);
    await expect(client.sendAsync(makeMessage(1, bytes(1)))).rejects.toHaveProperty(
      "code",
      "QI_ERR_TRANSPORT_CLOSED",
    );
  });

  it("listener.close() closes the channels it accepted and stops accepting", async () => {
    const p = await pair();
    const a = closedWith(p.client);
    const b = closedWith(p.server);
    await p.listener.close();
    expect(await b).toHaveProperty("message", expect.stringMatching(/listener .* closed/));
    expect(await a).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
    expect((await rejection(connect(p.listener.url))).code).toBe("QI_ERR_TRANSPORT_CONNECT");
    await p.listener.close(); // idempotent
  });
});

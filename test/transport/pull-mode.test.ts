import { afterEach, describe, expect, it } from "vitest";
import type { Channel, SocketChannel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { listen } from "../../src/transport/listen.js";
import type { Message } from "../../src/wire/message-types.js";
import { passOn, reusedPayloads } from "../../src/wire/payload-pool.js";
import { bytes, channelPair, deferred, makeMessage } from "../helpers/channels.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const MiB = 1024 * 1024;

describe("SocketChannel pull mode: reads land in the framer's buffers, on both sides", () => {
  it("connected and accepted TCP channels both read by pull", async () => {
    const p = await channelPair();
    cleanups.push(() => p.close());
    expect((p.client as SocketChannel).pullMode).toBe(true);
    expect((p.server as SocketChannel).pullMode).toBe(true);
  });

  it("a 1 MiB payload arrives whole, in a buffer of its own, both ways", async () => {
    const p = await channelPair();
    cleanups.push(() => p.close());
    const big = bytes(MiB, 3);
    const atServer = new Promise<Message>((r) => p.server.onMessage(r));
    p.client.send(makeMessage(1, big));
    const m = await atServer;
    expect(Buffer.compare(m.payload, big)).toBe(0);
    expect(m.payload.byteOffset).toBe(0);
    expect(m.payload.buffer.byteLength).toBe(MiB);
    const atClient = new Promise<Message>((r) => p.client.onMessage(r));
    p.server.send(makeMessage(2, m.payload));
    expect(Buffer.compare((await atClient).payload, big)).toBe(0);
  });

  it("messages kept by the app stay intact while other connections read (the read buffer is shared)", async () => {
    // Three connections read through the same memory; every message is kept as delivered (a
    // view, not a copy) and checked only once all have arrived.
    const accepted: Channel[] = [];
    const all = deferred<void>();
    const listener = await listen("tcp://127.0.0.1:0", {}, (ch) => {
      accepted.push(ch);
      if (accepted.length === 3) all.resolve();
    });
    cleanups.push(() => listener.close());
    const clients = await Promise.all([1, 2, 3].map(() => connect(listener.url)));
    cleanups.push(() => {
      for (const c of clients) c.destroy();
    });
    await all.promise;
    const N = 200;
    const sizes = [8, 300, 5_000, 40_000];
    clients.forEach((c, k) => {
      for (let i = 0; i < N; i++) c.send(makeMessage(i + 1, bytes(sizes[i % sizes.length], 100 * k + i)));
    });
    const kept: Message[][] = await Promise.all(
      accepted.map(
        (ch) =>
          new Promise<Message[]>((resolve) => {
            const got: Message[] = [];
            ch.onMessage((m) => {
              got.push(m);
              if (got.length === N) resolve(got);
            });
          }),
      ),
    );
    const byClient = new Map<number, Message[]>();
    for (const msgs of kept) {
      const first = msgs[0].payload;
      const k = [0, 1, 2].find((c) => Buffer.compare(first, bytes(sizes[0], 100 * c)) === 0)!;
      byClient.set(k, msgs);
    }
    expect([...byClient.keys()].sort()).toEqual([0, 1, 2]);
    for (const [k, msgs] of byClient)
      msgs.forEach((m, i) => {
        expect(m.id).toBe(i + 1);
        expect(Buffer.compare(m.payload, bytes(sizes[i % sizes.length], 100 * k + i))).toBe(0);
      });
  });

  it("payloads delivered earlier are not overwritten by later reads", async () => {
    const p = await channelPair();
    cleanups.push(() => p.close());
    const seen: Message[] = [];
    const done = deferred<void>();
    p.server.onMessage((m) => {
      seen.push(m); // kept as delivered: views, not copies
      if (seen.length === 300) done.resolve();
    });
    for (let i = 0; i < 300; i++) p.client.send(makeMessage(i + 1, bytes(100 + (i % 50), i + 7)));
    await done.promise;
    for (const [i, m] of seen.entries())
      expect(Buffer.compare(m.payload, bytes(100 + (i % 50), i + 7))).toBe(0);
  });
});

describe("SocketChannel: a passed-on payload's memory takes the next payload once written", () => {
  it("forwarding 1 MiB back and forth reuses one buffer instead of fresh memory each time", async () => {
    const p = await channelPair();
    cleanups.push(() => p.close());
    const next = (ch: Channel) => new Promise<Message>((r) => ch.onMessage(r));
    const reusedBefore = reusedPayloads();
    let msg = makeMessage(1, bytes(MiB, 9));
    p.client.send(msg);
    for (let i = 0; i < 6; i++) {
      // Each end sends back what it got and keeps nothing of it, as the gateway forwards.
      msg = await next(p.server);
      expect(Buffer.compare(msg.payload, bytes(MiB, 9))).toBe(0);
      passOn(msg.payload);
      const back = next(p.client);
      p.server.send(makeMessage(msg.id + 1, msg.payload));
      const got = await back;
      passOn(got.payload);
      p.client.send(makeMessage(got.id + 1, got.payload));
    }
    // Fresh memory at first, then the written buffers come back: not fresh for each of the 12.
    // (Each comes back as a new ArrayBuffer over the same memory: the old one is detached.)
    expect(reusedPayloads() - reusedBefore).toBeGreaterThanOrEqual(8);
  });
});

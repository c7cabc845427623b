/**
 * XmppChannel without a server: two channels joined by a sender that hands each data block to
 * the other side and resolves with its verdict, as the iq result would. What the stream
 * promises (order, window, backpressure, limits on hostile blocks) is checked here; the
 * prosody peer tests check the same over the real thing.
 */
import { describe, expect, it } from "vitest";
import type { XmlElement } from "@xmpp/client";
import { XmppChannel } from "../../../src/transport/xmpp/xmpp-channel.js";
import { parseUrl, formatUrl } from "../../../src/transport/index.js";
import { MessageType, type Message } from "../../../src/wire/index.js";

interface Link {
  a: XmppChannel;
  b: XmppChannel;
  /** Blocks sent by a and not yet acknowledged by the test (when acks are manual). */
  inFlight: number;
  release(): void;
}

function pair(opts: { manualAcks?: boolean; window?: number; blockSize?: number; hwm?: number } = {}): Link {
  const limits = { blockSize: opts.blockSize ?? 64, window: opts.window ?? 4, ackTimeoutMs: 5_000 };
  const held: Array<() => void> = [];
  const link = {
    inFlight: 0,
    release: () => {
      for (const f of held.splice(0)) f();
    },
  } as Link;
  const sender = (to: () => XmppChannel, manual: boolean) => ({
    request: (iq: XmlElement) => {
      const data = iq.getChild("data");
      if (!data) return Promise.resolve(undefined);
      const bytes = Buffer.from(data.text(), "base64");
      const seq = Number(data.attrs.seq);
      return new Promise((resolve, reject) => {
        const deliver = async () => {
          const v = await to().receive(seq, bytes);
          if (manual) link.inFlight--;
          v.ok ? resolve(undefined) : reject(new Error(v.condition));
        };
        if (manual) {
          link.inFlight++;
          held.push(() => void deliver());
        } else setImmediate(() => void deliver());
      });
    },
  });
  const common = { sid: "s1", limits, highWaterMark: opts.hwm ?? 1024, closeTimeout: 100 };
  link.a = new XmppChannel({
    ...common,
    sender: sender(() => link.b, !!opts.manualAcks),
    remote: "b@x/1",
    local: "a@x/1",
  });
  link.b = new XmppChannel({
    ...common,
    sender: sender(() => link.a, false),
    remote: "a@x/1",
    local: "b@x/1",
  });
  return link;
}

function msg(id: number, size: number): Message {
  const payload = Buffer.alloc(size, id & 0xff);
  return {
    id,
    version: 0,
    type: MessageType.Call,
    flags: 0,
    service: 1,
    object: 1,
    action: 100,
    payload,
  } as Message;
}

describe("XmppChannel", () => {
  it("cuts messages into blocks and reassembles them in order", async () => {
    const { a, b } = pair();
    const got: Array<[number, number]> = [];
    b.onMessage((m) => got.push([m.id, m.payload.byteLength]));
    for (let i = 1; i <= 20; i++) a.send(msg(i, i * 37));
    while (got.length < 20) await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, (i + 1) * 37]));
    expect(a.bufferedBytes).toBe(0);
  });

  it("keeps at most `window` blocks unacknowledged and signals backpressure until acks come", async () => {
    const link = pair({ manualAcks: true, window: 3, blockSize: 64, hwm: 256 });
    let drained = 0;
    link.a.onDrain(() => drained++);
    expect(link.a.send(msg(1, 2000))).toBe(false);
    await Promise.resolve();
    await Promise.resolve();
    expect(link.inFlight).toBe(3);
    expect(link.a.bufferedBytes).toBe(2028);
    while (link.a.bufferedBytes > 0) {
      link.release();
      await new Promise((r) => setImmediate(r));
      expect(link.inFlight).toBeLessThanOrEqual(3);
    }
    expect(drained).toBe(1);
  });

  it("ends the stream on a block out of sequence or over the block size", async () => {
    const { b } = pair();
    expect(await b.receive(1, Buffer.alloc(4))).toEqual({ ok: false, condition: "unexpected-request" });
    expect(b.closed).toBe(true);
    expect(b.closeReason?.message).toMatch(/out of sequence/);
    const other = pair().b;
    expect(await other.receive(0, Buffer.alloc(65))).toMatchObject({ ok: false });
    expect(other.closeReason?.message).toMatch(/over the block size/);
  });

  it("holds acks while paused and cuts off a sender that ignores the window", async () => {
    const { b } = pair({ window: 2 });
    b.onMessage(() => {});
    b.pause();
    const first = b.receive(0, Buffer.alloc(4));
    const second = b.receive(1, Buffer.alloc(4));
    expect(first).toBeInstanceOf(Promise);
    expect(await b.receive(2, Buffer.alloc(4))).toEqual({ ok: false, condition: "resource-constraint" });
    expect(b.closeReason?.message).toMatch(/window/);
    expect(await first).toMatchObject({ ok: false });
    expect(await second).toMatchObject({ ok: false });
  });

  it("refuses a payload over the limit (the Framer's check) and closes", async () => {
    const { a, b } = pair({ blockSize: 4096 });
    b.setMaxPayload(100);
    const closed = new Promise<Error | undefined>((r) => b.onClose(r));
    a.send(msg(1, 1000));
    expect((await closed)?.message).toMatch(/payload|large|limit/i);
  });
});

describe("xmpp:// URLs", () => {
  it("name an account, its server's port (5222) and a resource", () => {
    expect(parseUrl("xmpp://robot@example.org")).toEqual({
      scheme: "xmpp",
      host: "example.org",
      port: 5222,
      user: "robot",
    });
    expect(formatUrl(parseUrl("xmpp://robot@localhost:15222/qi"))).toBe("xmpp://robot@localhost:15222/qi");
    expect(() => parseUrl("xmpp://example.org")).toThrow(/name an account/);
    expect(() => parseUrl("xmpp://robot@example.org/a/b")).toThrow(/one resource/);
    expect(() => parseUrl("tcp://robot@example.org")).toThrow(/user information/);
  });
});

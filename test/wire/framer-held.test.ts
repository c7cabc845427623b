import { describe, expect, it } from "vitest";
import { Framer } from "../../src/wire/framer.js";
import { encodeHeader } from "../../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../../src/wire/message-types.js";

function frame(id: number, payloadSize: number): Uint8Array {
  const msg: Message = {
    id,
    type: MessageType.Call,
    flags: 0,
    service: 1,
    object: 1,
    action: 100,
    payload: new Uint8Array(payloadSize).fill(id & 0xff),
  };
  const out = new Uint8Array(HEADER_SIZE + payloadSize);
  encodeHeader(msg, payloadSize, out, 0);
  out.set(msg.payload, HEADER_SIZE);
  return out;
}

describe("Framer holds no buffer between messages (idle connections cost nothing)", () => {
  it("whole messages in one chunk: nothing held", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    expect(f.heldBytes).toBe(0);
    f.push(frame(1, 10));
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });

  it("a header split across chunks: its scratch is made then dropped", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    const bytes = frame(2, 8);
    f.push(bytes.subarray(0, 10));
    expect(f.heldBytes).toBe(HEADER_SIZE);
    f.push(bytes.subarray(10));
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });

  it("a payload spanning chunks is held only until it is delivered", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m));
    const bytes = frame(3, 100_000);
    f.push(bytes.subarray(0, 50_000));
    expect(f.heldBytes).toBeGreaterThan(0);
    f.push(bytes.subarray(50_000));
    expect(got).toHaveLength(1);
    expect(got[0].payload.length).toBe(100_000);
    expect(f.heldBytes).toBe(0);
  });

  it("pull mode: the read buffer is released once committed", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m), { readBufferSize: 4096 });
    const target = f.readBuffer();
    expect(f.heldBytes).toBe(4096);
    const bytes = frame(4, 16);
    target.set(bytes);
    f.commitRead(bytes.length);
    expect(got).toHaveLength(1);
    expect(f.heldBytes).toBe(0);
  });

  it("pull mode with a shared read buffer: nothing held, what was read is copied out", () => {
    const got: Message[] = [];
    const shared = new Uint8Array(4096);
    const f = new Framer((m) => got.push(m), { sharedReadBuffer: shared });
    const target = f.readBuffer();
    expect(target).toBe(shared);
    expect(f.heldBytes).toBe(0);
    const bytes = frame(5, 16);
    target.set(bytes);
    f.commitRead(bytes.length);
    shared.fill(0); // the next read of another socket
    expect(got[0].payload).toEqual(new Uint8Array(16).fill(5));
    expect(got[0].payload.buffer).not.toBe(shared.buffer);
  });

  it("pull mode: a header announcing a huge payload does not get its buffer before half of it came", () => {
    const got: Message[] = [];
    const f = new Framer((m) => got.push(m), {
      eagerPayloadMax: 1024,
      lazyPayloadMin: 512,
      readBufferSize: 1000,
    });
    const size = 10_000;
    const bytes = frame(6, size);
    let at = 0;
    const feed = (n: number) => {
      const t = f.readBuffer();
      const k = Math.min(n, t.length, bytes.length - at);
      t.set(bytes.subarray(at, at + k));
      f.commitRead(k);
      at += k;
    };
    feed(HEADER_SIZE + 100);
    f.readBuffer();
    expect(f.heldBytes).toBeLessThan(size); // only what arrived (and the read buffer)
    while (at < HEADER_SIZE + size / 2 + 10) feed(1000);
    f.readBuffer();
    expect(f.heldBytes).toBeGreaterThanOrEqual(size); // now read in place
    while (at < bytes.length) feed(4000);
    expect(got[0].payload).toEqual(new Uint8Array(size).fill(6));
  });

  it("pull mode with a shared read buffer: a large payload's first bytes go straight into its own buffer (one copy)", () => {
    const got: Message[] = [];
    const sizes: number[] = [];
    const shared = new Uint8Array(4096);
    const f = new Framer((m) => got.push(m), {
      sharedReadBuffer: shared,
      allocate: (n) => {
        sizes.push(n);
        return new Uint8Array(n);
      },
    });
    const small = frame(7, 16);
    const big = frame(8, 300_000); // over lazyPayloadMin, under eagerPayloadMax
    const stream = new Uint8Array(small.length + big.length);
    stream.set(small);
    stream.set(big, small.length);
    let at = 0;
    const t = f.readBuffer();
    t.set(stream.subarray(0, shared.length));
    f.commitRead(shared.length);
    at += shared.length;
    shared.fill(0); // the next read of another socket
    // The small message got memory of exactly its bytes; the big payload its own buffer at once,
    // with no read-sized buffer in between.
    expect(sizes).toEqual([small.length, 300_000]);
    expect(got).toHaveLength(1);
    expect(got[0].payload).toEqual(new Uint8Array(16).fill(7));
    while (at < stream.length) {
      const target = f.readBuffer();
      expect(target).not.toBe(shared); // read in place
      const k = Math.min(target.length, stream.length - at, 50_000);
      target.set(stream.subarray(at, at + k));
      f.commitRead(k);
      at += k;
    }
    expect(sizes).toEqual([small.length, 300_000]);
    expect(got).toHaveLength(2);
    expect(got[1].payload.length).toBe(300_000);
    expect(got[1].payload.every((b) => b === 8)).toBe(true);
    expect(f.heldBytes).toBe(0);
  });

  it("pull mode with a shared read buffer: a header announcing more than eagerPayloadMax keeps a copy, not a view", () => {
    const got: Message[] = [];
    // A Node Buffer, as the transport's shared read buffer is: its slice() is a view, not a copy.
    const shared = Buffer.alloc(1000);
    const f = new Framer((m) => got.push(m), {
      sharedReadBuffer: shared,
      eagerPayloadMax: 1024,
      lazyPayloadMin: 512,
    });
    const bytes = frame(9, 10_000);
    let at = 0;
    while (at < bytes.length) {
      const target = f.readBuffer();
      const k = Math.min(target.length, bytes.length - at);
      target.set(bytes.subarray(at, at + k));
      f.commitRead(k);
      at += k;
      shared.fill(0); // the next read of another socket
      if (at < HEADER_SIZE + 5_000) expect(f.heldBytes).toBeLessThan(10_000); // not allocated yet
    }
    expect(got[0].payload.length).toBe(10_000);
    expect(got[0].payload.every((b) => b === 9)).toBe(true);
  });
});

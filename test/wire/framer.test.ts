import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WireError } from "../../src/wire/errors.js";
import { Framer } from "../../src/wire/framer.js";
import { encodeMessage } from "../../src/wire/header.js";
import { HEADER_SIZE, type Message, MessageType } from "../../src/wire/message-types.js";
import { concat, encodeAll, hex, plain, referenceFrame, toHex } from "./framer-helpers.js";

function msg(id: number, payload: Uint8Array, over: Partial<Message> = {}): Message {
  return { id, type: MessageType.Call, flags: 0, service: 1, object: 1, action: 100, payload, ...over };
}

function collect(opts?: { maxPayload?: number; strictFlags?: boolean }) {
  const out: Message[] = [];
  const framer = new Framer((m) => out.push(m), opts);
  return { out, framer };
}

function splitAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const sorted = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const c of sorted) {
    chunks.push(stream.slice(prev, c)); // slice: every chunk has its own ArrayBuffer
    prev = c;
  }
  chunks.push(stream.slice(prev));
  return chunks;
}

function wireError(fn: () => unknown): WireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    return e as WireError;
  }
  throw new Error("expected a WireError");
}

// Spec §10 (D) then (H): header + payload hex copied from the spec.
const D = hex(
  "42 de ad 42 03 00 00 00 07 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 64 00 00 00 03 00 00 00 46 6f 6f",
);
const H = hex(
  "42 de ad 42 03 00 00 00 0d 00 00 00 00 00 03 00 01 00 00 00 01 00 00 00 64 00 00 00 01 00 00 00 73 04 00 00 00 62 6f 6f 6d",
);
// (C): empty payload.
const C = hex("42 de ad 42 02 00 00 00 00 00 00 00 00 00 01 00 01 00 00 00 01 00 00 00 65 00 00 00");

describe("Framer: whole messages", () => {
  it("parses several messages from one chunk, payloads as zero-copy views", () => {
    const stream = concat([D, C, H]);
    const { out, framer } = collect();
    framer.push(stream);
    expect(out.map((m) => [m.id, m.type, m.action, toHex(m.payload)])).toEqual([
      [3, MessageType.Call, 100, "03 00 00 00 46 6f 6f"],
      [2, MessageType.Call, 101, ""],
      [3, MessageType.Error, 100, "01 00 00 00 73 04 00 00 00 62 6f 6f 6d"],
    ]);
    for (const m of out) expect(m.payload.buffer).toBe(stream.buffer);
    expect(out[0].payload.byteOffset).toBe(28);
    expect(out[1].payload.byteOffset).toBe(D.length + 28);
    expect(out[2].payload.byteOffset).toBe(D.length + C.length + 28);
    expect(out[0]).toMatchObject({ size: 7, version: 0, flags: 0, service: 1, object: 1 });
    expect(framer.bufferedBytes).toBe(0);
  });

  it("zero-copy also for a chunk that is a view at a non-zero offset of a larger buffer", () => {
    const backing = new Uint8Array(100 + D.length);
    backing.set(D, 100);
    const chunk = backing.subarray(100);
    const { out, framer } = collect();
    framer.push(chunk);
    expect(out[0].payload.buffer).toBe(backing.buffer);
    expect(out[0].payload.byteOffset).toBe(128);
    expect(toHex(out[0].payload)).toBe("03 00 00 00 46 6f 6f");
  });

  it("delivers a payload as a view when only the header was split", () => {
    const { out, framer } = collect();
    const second = D.slice(10);
    framer.push(D.slice(0, 10));
    framer.push(second);
    expect(out).toHaveLength(1);
    expect(out[0].payload.buffer).toBe(second.buffer);
    expect(toHex(out[0].payload)).toBe("03 00 00 00 46 6f 6f");
  });

  it("accepts an empty push anywhere", () => {
    const { out, framer } = collect();
    framer.push(new Uint8Array(0));
    framer.push(D.slice(0, 5));
    framer.push(new Uint8Array(0));
    framer.push(D.slice(5, 30));
    framer.push(new Uint8Array(0));
    framer.push(D.slice(30));
    expect(out.map(plain)).toEqual([plain(msg(3, hex("03 00 00 00 46 6f 6f")))]);
  });
});

describe("Framer: chunking", () => {
  it("1-byte chunks give the same messages; split payloads are exactly sized copies", () => {
    const msgs = [
      msg(1, hex("01 02 03")),
      msg(2, new Uint8Array(0)),
      msg(
        3,
        new Uint8Array(1000).map((_, i) => i),
      ),
      msg(4, hex("ff"), { type: MessageType.Event, flags: 1, service: 7, object: 9, action: 0xffffffff }),
    ];
    const stream = encodeAll(msgs);
    const { out, framer } = collect();
    const buffered: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      framer.push(stream.slice(i, i + 1));
      buffered.push(framer.bufferedBytes);
    }
    expect(out.map(plain)).toEqual(msgs.map(plain));
    for (const m of out) {
      if (m.payload.length === 0) continue;
      expect(m.payload.byteOffset).toBe(0);
      expect(m.payload.buffer.byteLength).toBe(m.payload.length);
    }
    // bufferedBytes counts the bytes of the incomplete message, 0 at each boundary.
    expect(buffered.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(buffered[28 + 3 - 1]).toBe(0);
    expect(buffered[28 + 3 + 28 - 1]).toBe(0);
    expect(buffered[28 + 3 + 28 + 27]).toBe(28); // third header complete, no payload yet
    expect(buffered[28 + 3 + 28 + 28]).toBe(29);
    expect(buffered.at(-1)).toBe(0);
  });

  it("a payload split across many chunks is assembled in one buffer of `size` bytes", () => {
    const payload = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const stream = encodeMessage(msg(9, payload));
    const { out, framer } = collect();
    for (let o = 0; o < stream.length; o += 4096) {
      framer.push(stream.slice(o, o + 4096));
      if (o + 4096 < stream.length) expect(framer.bufferedBytes).toBe(o + 4096);
    }
    expect(out).toHaveLength(1);
    expect(out[0].payload.buffer.byteLength).toBe(100_000);
    expect(Buffer.compare(out[0].payload, payload)).toBe(0);
  });

  it("random splits of random message streams (fast-check) = one-chunk parse", () => {
    const arbMsg = fc.record({
      id: fc.integer({ min: 0, max: 0xffffffff }),
      type: fc.integer({ min: 1, max: 8 }),
      flags: fc.integer({ min: 0, max: 255 }),
      service: fc.integer({ min: 0, max: 0xffffffff }),
      object: fc.integer({ min: 0, max: 0xffffffff }),
      action: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 })),
    }) as fc.Arbitrary<Message>;
    fc.assert(
      fc.property(
        fc.array(arbMsg, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (msgs, cuts) => {
          const stream = encodeAll(msgs);
          const chunks = splitAt(stream, cuts);
          const { out, framer } = collect();
          let pushed = 0;
          for (const ch of chunks) {
            const before = out.length;
            framer.push(ch);
            pushed += ch.length;
            // bufferedBytes = bytes pushed minus bytes of delivered messages
            let delivered = 0;
            for (const m of out) delivered += HEADER_SIZE + m.payload.length;
            expect(framer.bufferedBytes).toBe(pushed - delivered);
            // messages whose header and payload were in this chunk are views of it
            for (const m of out.slice(before)) {
              if (m.payload.length > 0 && m.payload.buffer !== ch.buffer) {
                expect(m.payload.buffer.byteLength).toBe(m.payload.length);
              }
            }
          }
          expect(out.map(plain)).toEqual(msgs.map(plain));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("many zero-size payloads back to back, in odd chunks", () => {
    const msgs = Array.from({ length: 50 }, (_, i) =>
      msg(i + 1, new Uint8Array(0), { type: MessageType.Canceled }),
    );
    const stream = encodeAll(msgs);
    for (const step of [1, 13, 28, 29, 55, 56, stream.length]) {
      const { out, framer } = collect();
      for (let o = 0; o < stream.length; o += step) framer.push(stream.subarray(o, o + step));
      expect(out.map((m) => [m.id, m.payload.length, m.size])).toEqual(msgs.map((m) => [m.id, 0, 0]));
      expect(framer.bufferedBytes).toBe(0);
    }
  });
});

describe("Framer: limits and errors", () => {
  it("payload size limit: = max accepted, max+1 rejected at the size field's stream offset", () => {
    const ok = encodeMessage(msg(1, new Uint8Array(10)));
    const tooBig = encodeMessage(msg(2, new Uint8Array(11)));
    const { out, framer } = collect({ maxPayload: 10 });
    framer.push(ok);
    expect(out).toHaveLength(1);
    const e = wireError(() => framer.push(tooBig));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(e.offset).toBe(ok.length + 8);
    expect(out).toHaveLength(1);
  });

  it("rejects a huge announced size from the header alone, before any payload arrives", () => {
    const h = encodeMessage(msg(1, new Uint8Array(0)));
    h[8] = 0xff;
    h[9] = 0xff;
    h[10] = 0xff;
    h[11] = 0xff;
    const { framer } = collect(); // default limit 50 MB
    const e = wireError(() => framer.push(h));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(e.offset).toBe(8);
  });

  it("bad magic mid-stream: earlier messages delivered, error offset = stream position, framer dead", () => {
    const garbage = hex(
      "47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a 48 6f 73 74 3a 20 78 0d 0a 0d 0a 00",
    ); // "GET / HTTP/1.1…"
    const stream = concat([D, H, garbage, C]);
    for (const step of [1, 7, stream.length]) {
      const { out, framer } = collect();
      let err: WireError | undefined;
      for (let o = 0; o < stream.length && !err; o += step) {
        try {
          framer.push(stream.slice(o, o + step));
        } catch (e) {
          err = e as WireError;
        }
      }
      expect(err).toBeInstanceOf(WireError);
      expect(err!.code).toBe("QI_ERR_WIRE_BAD_MAGIC");
      expect(err!.offset).toBe(D.length + H.length);
      expect(out.map((m) => m.id)).toEqual([3, 3]);
      expect(framer.isDead).toBe(true);
      expect(framer.failure).toBe(err);
      // dead for good: even valid bytes throw the same error
      expect(() => framer.push(C)).toThrow(err!);
      expect(() => framer.push(new Uint8Array(0))).toThrow(err!);
      expect(out).toHaveLength(2);
    }
  });

  it("bad version / type in a later header, with stream offsets", () => {
    const badVersion = C.slice();
    badVersion[13] = 1;
    let r = collect();
    expect(() => r.framer.push(concat([D, badVersion]))).toThrow(WireError);
    expect((r.framer.failure as WireError).code).toBe("QI_ERR_WIRE_BAD_VERSION");
    expect((r.framer.failure as WireError).offset).toBe(D.length + 12);

    const badType = C.slice();
    badType[14] = 0;
    r = collect();
    r.framer.push(D);
    const e = wireError(() => r.framer.push(badType));
    expect(e.code).toBe("QI_ERR_WIRE_BAD_TYPE");
    expect(e.offset).toBe(D.length + 14);
  });

  it("unknown flag bits pass by default and fail with strictFlags", () => {
    const m = encodeMessage(msg(5, hex("01"), { flags: 0x84 }));
    let r = collect();
    r.framer.push(m);
    expect(r.out[0].flags).toBe(0x84);
    r = collect({ strictFlags: true });
    const e = wireError(() => r.framer.push(m));
    expect(e.code).toBe("QI_ERR_WIRE_BAD_FLAGS");
    expect(e.offset).toBe(15);
  });

  it("agrees with a reference whole-stream parser on corrupted streams", () => {
    const stream = concat([D, H, C, D]);
    for (let i = 0; i < stream.length; i++) {
      const bad = stream.slice();
      bad[i] ^= 0xa5;
      const ref = referenceFrame(bad, 64);
      const { out, framer } = collect({ maxPayload: 64 });
      let err: WireError | undefined;
      try {
        for (let o = 0; o < bad.length; o += 3) framer.push(bad.slice(o, o + 3));
      } catch (e) {
        err = e as WireError;
      }
      expect(out.map(plain)).toEqual(ref.messages);
      expect(err && { code: err.code, offset: err.offset }).toEqual(ref.error);
    }
  });

  it("an exception from onMessage propagates and kills the framer", () => {
    const boom = new Error("handler failed");
    let n = 0;
    const framer = new Framer(() => {
      n++;
      throw boom;
    });
    expect(() => framer.push(concat([D, H]))).toThrow(boom);
    expect(n).toBe(1);
    expect(framer.isDead).toBe(true);
    expect(() => framer.push(C)).toThrow(boom);
  });

  it("re-entrant push from onMessage is refused", () => {
    let framer: Framer | undefined;
    framer = new Framer(() => framer!.push(C));
    expect(() => framer!.push(D)).toThrow(/re-entrantly/);
    expect(framer.isDead).toBe(true);
  });

  it("rejects a negative or NaN maxPayload", () => {
    expect(() => new Framer(() => {}, { maxPayload: -1 })).toThrow(RangeError);
    expect(() => new Framer(() => {}, { maxPayload: Number.NaN })).toThrow(RangeError);
  });
});

/** Feed `stream` through readBuffer()/commitRead() with reads of at most `maxRead` bytes. */
function pullAll(framer: Framer, stream: Uint8Array, readSizes: () => number): Uint8Array[] {
  const targets: Uint8Array[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const target = framer.readBuffer();
    targets.push(target);
    const n = Math.min(target.length, stream.length - pos, Math.max(1, readSizes()));
    target.set(stream.subarray(pos, pos + n));
    pos += n;
    framer.commitRead(n);
  }
  return targets;
}

describe("Framer: pull mode (readBuffer / commitRead)", () => {
  it("reads a large payload directly into its own buffer (no copy by the framer)", () => {
    const payload = new Uint8Array(200_000).map((_, i) => i % 251);
    const stream = encodeAll([msg(1, hex("0a 0b")), msg(2, payload), msg(3, new Uint8Array(0))]);
    const out: Message[] = [];
    const f = new Framer((m) => out.push(m), { readBufferSize: 4096, directReadMin: 1024 });
    const targets = pullAll(f, stream, () => 3000);
    expect(out.map(plain)).toEqual(
      [msg(1, hex("0a 0b")), msg(2, payload), msg(3, new Uint8Array(0))].map(plain),
    );
    // The big payload's buffer was handed out as a read target (same ArrayBuffer, in place).
    const big = out[1].payload;
    expect(big.buffer.byteLength).toBe(200_000);
    const direct = targets.filter((t) => t.buffer === big.buffer);
    expect(direct.length).toBeGreaterThan(60);
    // Small payloads are views of the generic read buffer they arrived in.
    expect(targets.some((t) => t.buffer === out[0].payload.buffer)).toBe(true);
    expect(f.bufferedBytes).toBe(0);
  });

  it("random read sizes over random streams give the same messages as one push", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 2048 }),
        (payloads, sizes, directReadMin) => {
          const msgs = payloads.map((p, i) => msg(i + 1, p));
          const stream = encodeAll(msgs);
          const out: Message[] = [];
          const f = new Framer((m) => out.push(m), { readBufferSize: 1000, directReadMin });
          let k = 0;
          pullAll(f, stream, () => sizes[k++ % sizes.length]);
          expect(out.map(plain)).toEqual(msgs.map(plain));
          expect(f.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("readBuffer twice without commit returns the same memory; misuse is refused", () => {
    const f = new Framer(() => {}, { readBufferSize: 64 });
    const a = f.readBuffer();
    expect(f.readBuffer()).toBe(a);
    expect(() => f.commitRead(65)).toThrow(RangeError);
    f.commitRead(0);
    expect(() => f.commitRead(1)).toThrow(/without readBuffer/);
    // a direct payload target outstanding: push would desynchronise the stream
    const g = new Framer(() => {}, { directReadMin: 1 });
    g.push(encodeMessage(msg(1, new Uint8Array(100))).subarray(0, 40));
    const t = g.readBuffer();
    expect(t.length).toBe(88);
    expect(() => g.push(new Uint8Array(1))).toThrow(/outstanding/);
    g.commitRead(88);
    expect(g.bufferedBytes).toBe(0);
  });

  it("errors in pull mode kill the framer like push", () => {
    const f = new Framer(() => {}, { maxPayload: 10 });
    const t = f.readBuffer();
    const bad = encodeMessage(msg(1, new Uint8Array(11)));
    t.set(bad.subarray(0, 28));
    const e = wireError(() => f.commitRead(28));
    expect(e.code).toBe("QI_ERR_WIRE_PAYLOAD_TOO_LARGE");
    expect(() => f.readBuffer()).toThrow(e);
    expect(() => f.commitRead(1)).toThrow(e);
  });

  it("an exception from onMessage on a directly read payload kills the framer", () => {
    const boom = new Error("x");
    const f = new Framer(
      () => {
        throw boom;
      },
      { directReadMin: 1 },
    );
    const stream = encodeMessage(msg(1, new Uint8Array(50)));
    f.push(stream.subarray(0, 30));
    const t = f.readBuffer();
    t.set(stream.subarray(30));
    expect(() => f.commitRead(t.length)).toThrow(boom);
    expect(f.isDead).toBe(true);
  });

  it("works with a real Node socket's onread (loopback)", async () => {
    const { createServer, connect } = await import("node:net");
    const payloads = [new Uint8Array(300_000).fill(1), hex("01 02"), new Uint8Array(70_000).fill(3)];
    const msgs = payloads.map((p, i) => msg(i + 1, p));
    const stream = encodeAll(msgs);
    const server = createServer((s) => s.end(stream));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const out: Message[] = [];
      const f = new Framer((m) => out.push(m));
      await new Promise<void>((resolve, reject) => {
        const sock = connect({
          port,
          host: "127.0.0.1",
          onread: {
            buffer: () => f.readBuffer(),
            callback: (n: number) => {
              f.commitRead(n);
              return true;
            },
          },
        });
        sock.on("error", reject);
        sock.on("end", () => resolve());
        sock.resume();
      });
      expect(out.map((m) => [m.id, m.payload.length])).toEqual([
        [1, 300_000],
        [2, 2],
        [3, 70_000],
      ]);
      expect(out[0].payload.every((b) => b === 1)).toBe(true);
      expect(out[2].payload.every((b) => b === 3)).toBe(true);
      expect(toHex(out[1].payload)).toBe("01 02");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("large payloads in push mode", () => {
  const big = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

  it("allocates nothing for a header that announces a large payload, until its bytes arrive", () => {
    const sizes: number[] = [];
    const out: Message[] = [];
    const framer = new Framer((m) => out.push(m), {
      allocate: (n) => {
        sizes.push(n);
        return new Uint8Array(n);
      },
    });
    const frame = encodeMessage(msg(1, big(10_000_000)));
    // The header and one payload byte: 29 bytes held, no 10 MB buffer.
    framer.push(frame.subarray(0, HEADER_SIZE + 1));
    expect(sizes).toEqual([]);
    expect(framer.bufferedBytes).toBe(HEADER_SIZE + 1);
    // The rest, in uneven chunks: one exactly sized allocation once complete, bytes intact.
    for (let at = HEADER_SIZE + 1; at < frame.length; at += 65_537)
      framer.push(frame.subarray(at, Math.min(frame.length, at + 65_537)));
    expect(sizes).toEqual([10_000_000]);
    expect(out).toHaveLength(1);
    expect(out[0].payload.buffer.byteLength).toBe(10_000_000);
    expect(Buffer.from(out[0].payload).equals(Buffer.from(big(10_000_000)))).toBe(true);
  });

  it("is exact whatever the chunking, with messages before and after, and with a split header", () => {
    const payloads = [big(5), big(300_000), big(0), big(1_000_001), big(17)];
    const stream = concat(payloads.map((p, i) => encodeMessage(msg(i + 1, p))));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        const { framer, out } = collect();
        for (const part of splitAt(stream, cuts)) framer.push(part);
        expect(out.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
        for (const [i, m] of out.entries())
          expect(Buffer.from(m.payload).equals(Buffer.from(payloads[i]))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("switches to pull mode in the middle of a large payload without losing bytes", () => {
    const payload = big(700_000);
    const frame = encodeMessage(msg(9, payload));
    const { framer, out } = collect();
    framer.push(frame.subarray(0, 200_000));
    let at = 200_000;
    while (at < frame.length) {
      const target = framer.readBuffer();
      const n = Math.min(target.length, frame.length - at);
      target.set(frame.subarray(at, at + n));
      framer.commitRead(n);
      at += n;
    }
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0].payload).equals(Buffer.from(payload))).toBe(true);
  });
});

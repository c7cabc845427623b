import { describe, expect, it } from "vitest";
import {
  decode,
  encode,
  encodeInto,
  encodePayload,
  GatheredPayload,
  withPayload,
} from "../../src/wire/codec.js";
import { WireError } from "../../src/wire/errors.js";
import { MessageType } from "../../src/wire/message-types.js";
import { parseSignature } from "../../src/wire/signature.js";
import { Raw, Struct } from "../../src/wire/values.js";
import { GATHER_MIN, Writer } from "../../src/wire/writer.js";

function block(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Byte equality without an element-by-element deep compare (large arrays). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe("encodePayload: large raw blocks by reference, not copied", () => {
  it("keeps a large Raw argument as a part of its own: the caller's very array", () => {
    const frame = block(640 * 480 * 3);
    const p = encodePayload("r", new Raw(frame));
    expect(p).toBeInstanceOf(GatheredPayload);
    const g = p as GatheredPayload;
    expect(g.byteLength).toBe(frame.length + 4);
    expect(g.parts).toHaveLength(2);
    expect(g.parts[0]).toEqual(Uint8Array.of(0x00, 0x10, 0x0e, 0x00)); // u32 921600
    expect(g.parts[1]).toBe(frame); // the same object: no copy was made
    expect(same(g.toBytes(), encode("r", new Raw(frame)))).toBe(true);
  });

  it("a plain Uint8Array for r is gathered the same way", () => {
    const b = block(GATHER_MIN);
    const g = encodePayload("(ir)", [7, b]) as GatheredPayload;
    expect(g.parts.at(-1)).toBe(b);
    expect(same(g.toBytes(), encode("(ir)", [7, b]))).toBe(true);
  });

  it("interleaves encoded bytes and blocks in order, with the same bytes as encode()", () => {
    const a = block(70_000, 3);
    const b = block(GATHER_MIN + 1, 5);
    const value = new Struct("S", { first: new Raw(a), n: 42, second: new Raw(b), s: "tail" });
    const sig = "(rirs)<S,first,n,second,s>";
    const g = encodePayload(sig, value) as GatheredPayload;
    expect(g.parts.filter((p) => p === a || p === b)).toHaveLength(2);
    expect(g.parts.indexOf(a)).toBeLessThan(g.parts.indexOf(b));
    const whole = encode(sig, value);
    expect(g.byteLength).toBe(whole.length);
    expect(same(g.toBytes(), whole)).toBe(true);
  });

  it("small blocks are copied into one Uint8Array, as before", () => {
    const small = block(GATHER_MIN - 1);
    const p = encodePayload("r", new Raw(small));
    expect(p).toBeInstanceOf(Uint8Array);
    expect(same(p as Uint8Array, encode("r", new Raw(small)))).toBe(true);
  });

  it("a failed encode drops the blocks it had gathered (the writer is left as it was)", () => {
    const w = new Writer();
    w.u32(5);
    expect(() => encodeInto(w, parseSignature("(rs)"), [new Raw(block(GATHER_MIN)), 5])).toThrow(WireError);
    expect(w.length).toBe(4);
    expect(w.hasGathered).toBe(false);
    expect(w.finish()).toEqual(Uint8Array.of(5, 0, 0, 0));
  });

  it("encode() after a gathered encode still returns one contiguous array", () => {
    const b = block(100_000);
    encodePayload("r", new Raw(b));
    const whole = encode("(sr)", ["x", new Raw(b)]);
    expect(whole.length).toBe(4 + 1 + 4 + b.length);
    expect(same(whole.subarray(9), b)).toBe(true);
  });
});

describe("decode: Raw values are views of the received bytes", () => {
  it("shares the payload's buffer, at the offset after the length", () => {
    const payload = encode("(ir)", [1, new Raw(block(50_000))]);
    const [, raw] = decode("(ir)", payload) as [number, Raw];
    expect(raw.bytes.buffer).toBe(payload.buffer);
    expect(raw.bytes.byteOffset).toBe(payload.byteOffset + 8);
    expect(raw.bytes.length).toBe(50_000);
  });
});

describe("withPayload", () => {
  const header = () => ({ id: 9, type: MessageType.Reply, flags: 0, service: 1, object: 1, action: 100 });

  it("a Uint8Array goes on the header object itself", () => {
    const h = header();
    const bytes = Uint8Array.of(1, 2, 3);
    const m = withPayload(h, bytes);
    expect(m).toBe(h);
    expect(m.payload).toBe(bytes);
    expect(m.payloadParts).toBeUndefined();
  });

  it("gathered parts stay parts; payload is made on first read, once", () => {
    const b = block(GATHER_MIN * 2);
    const g = encodePayload("r", new Raw(b)) as GatheredPayload;
    const m = withPayload(header(), g);
    expect(m.payloadParts).toBe(g.parts);
    expect(m.id).toBe(9);
    const first = m.payload;
    expect(same(first, g.toBytes())).toBe(true);
    expect(m.payload).toBe(first);
  });
});

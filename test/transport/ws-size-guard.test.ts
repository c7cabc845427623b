import { describe, expect, it } from "vitest";
import { WsSizeGuard } from "../../src/transport/ws-size-guard.js";

/** One RFC 6455 frame header (client to server: masked), as `ws` writes it. */
function frameHeader(opts: { fin?: boolean; opcode: number; length: number; masked?: boolean }): Uint8Array {
  const { fin = true, opcode, length, masked = true } = opts;
  const out: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = masked ? 0x80 : 0;
  if (length < 126) out.push(m | length);
  else if (length < 0x10000) out.push(m | 126, length >> 8, length & 0xff);
  else {
    out.push(m | 127);
    const hi = Math.floor(length / 2 ** 32);
    const lo = length >>> 0;
    out.push(hi >>> 24, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff);
    out.push(lo >>> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
  }
  if (masked) out.push(1, 2, 3, 4);
  return Uint8Array.from(out);
}

function frame(opts: Parameters<typeof frameHeader>[0]): Uint8Array {
  const h = frameHeader(opts);
  const out = new Uint8Array(h.length + opts.length);
  out.set(h);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("WsSizeGuard", () => {
  it("accepts messages up to the limit, whatever the header size (7-bit, 16-bit, 64-bit lengths)", () => {
    const g = new WsSizeGuard(70_000);
    expect(g.push(frame({ opcode: 2, length: 100 }))).toBe(true);
    expect(g.push(frame({ opcode: 2, length: 60_000 }))).toBe(true);
    expect(g.push(frame({ opcode: 2, length: 70_000 }))).toBe(true);
    expect(g.refusedSize).toBe(0);
  });

  it("refuses on the header alone: a 50 MB message is refused before any payload byte", () => {
    const g = new WsSizeGuard(65_536);
    expect(g.push(frameHeader({ opcode: 2, length: 50_000_000 }))).toBe(false);
    expect(g.refusedSize).toBe(50_000_000);
    expect(g.push(new Uint8Array(10))).toBe(false); // stays refused
  });

  it("reads headers split across chunks, byte by byte", () => {
    const g = new WsSizeGuard(1_000);
    const stream = concat(frame({ opcode: 2, length: 900 }), frameHeader({ opcode: 2, length: 70_000 }));
    let ok = true;
    for (let i = 0; i < stream.length && ok; i++) ok = g.push(stream.subarray(i, i + 1));
    expect(ok).toBe(false);
    expect(g.refusedSize).toBe(70_000);
  });

  it("adds up the fragments of one message; control frames between them do not count", () => {
    const g = new WsSizeGuard(25_000);
    const parts = [
      frame({ opcode: 2, fin: false, length: 10_000 }),
      frame({ opcode: 0x9, length: 125 }), // ping in the middle
      frame({ opcode: 0, fin: false, length: 10_000 }),
    ];
    for (const p of parts) expect(g.push(p)).toBe(true);
    expect(g.push(frameHeader({ opcode: 0, fin: true, length: 10_000 }))).toBe(false);
    expect(g.refusedSize).toBe(30_000);
  });

  it("a finished message resets the count; unmasked frames and 2^53-sized lengths are read right", () => {
    const g = new WsSizeGuard(25_000);
    expect(g.push(frame({ opcode: 2, fin: false, length: 20_000, masked: false }))).toBe(true);
    expect(g.push(frame({ opcode: 0, fin: true, length: 5_000, masked: false }))).toBe(true);
    expect(g.push(frame({ opcode: 2, length: 25_000 }))).toBe(true);
    const huge = new WsSizeGuard(25_000);
    expect(huge.push(frameHeader({ opcode: 2, length: 2 ** 40 + 5 }))).toBe(false);
    expect(huge.refusedSize).toBe(2 ** 40 + 5);
  });

  it("a raised limit applies to the next message", () => {
    const g = new WsSizeGuard(1_000);
    g.limit = 100_000;
    expect(g.push(frame({ opcode: 2, length: 90_000 }))).toBe(true);
  });
});

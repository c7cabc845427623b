import { describe, expect, it } from "vitest";
import {
  holdPayload,
  POOL_MIN,
  passOn,
  payloadWritten,
  pooledBytes,
  releasePayload,
  takePayload,
} from "../../src/wire/payload-pool.js";
import { Raw } from "../../src/wire/values.js";

/** An allocator that counts its calls: a reused payload costs none. */
function counting(): { alloc: (n: number) => Uint8Array; calls: () => number } {
  let calls = 0;
  return {
    alloc: (n) => {
      calls++;
      return new Uint8Array(n);
    },
    calls: () => calls,
  };
}

/** Each test its own size class, so the process-wide pool's leftovers do not meet it. */
let nextClass = 1;
function freshSize(): number {
  return POOL_MIN + 64 * 1024 * nextClass++ + 100;
}

describe("payload pool: memory comes back only from whoever says it is done, never from a kept view", () => {
  it("small payloads are plain allocations, never pooled nor held", () => {
    const p = takePayload(1000, counting().alloc);
    expect(p.buffer.byteLength).toBe(1000);
    const before = pooledBytes();
    passOn(p);
    releasePayload(p);
    expect(holdPayload(p)).toBe(false);
    expect(pooledBytes()).toBe(before);
    expect(p.byteLength).toBe(1000);
  });

  it("a payload passed on and written serves the next one of its class, and its old views go empty", () => {
    const size = freshSize();
    const { alloc, calls } = counting();
    const a = takePayload(size, alloc);
    const kept = a.subarray(4, 100);
    a.fill(7);
    passOn(a);
    const before = pooledBytes();
    expect(holdPayload(a)).toBe(true);
    expect(pooledBytes()).toBe(before); // not free while the write is out
    payloadWritten(a);
    expect(pooledBytes()).toBe(before + size);
    // Detached, not shared: no view of the old payload can show the next one's bytes.
    expect(a.byteLength).toBe(0);
    expect(kept.byteLength).toBe(0);
    const b = takePayload(size - 10, alloc);
    expect(calls()).toBe(1); // the same memory again, no allocation
    expect(b.byteLength).toBe(size - 10);
    expect(b[0]).toBe(7); // the very bytes (not cleared: the framer overwrites them all)
    expect(pooledBytes()).toBe(before);
    // Written again (a stale callback): changes nothing.
    payloadWritten(a);
    expect(pooledBytes()).toBe(before);
  });

  it("a payload nobody released is never reused, however often it is written", () => {
    const size = freshSize();
    const { alloc, calls } = counting();
    const a = takePayload(size, alloc);
    a.fill(9);
    for (let i = 0; i < 3; i++) {
      expect(holdPayload(a)).toBe(true);
      payloadWritten(a);
    }
    const b = takePayload(size, alloc);
    expect(calls()).toBe(2);
    expect(b.buffer).not.toBe(a.buffer);
    expect(a.byteLength).toBe(size);
    expect(a.every((x) => x === 9)).toBe(true);
  });

  it("release() frees at once when nothing writes it, else after the last write", () => {
    const size = freshSize();
    const { alloc, calls } = counting();
    const a = takePayload(size, alloc);
    const before = pooledBytes();
    releasePayload(a.subarray(4)); // any view releases its whole message
    expect(a.byteLength).toBe(0);
    expect(pooledBytes()).toBe(before + size);
    takePayload(size, alloc);
    expect(calls()).toBe(1);

    const c = takePayload(size, alloc);
    holdPayload(c.subarray(4));
    holdPayload(c.subarray(4));
    releasePayload(c);
    expect(c.byteLength).toBe(size); // two writes still read it
    payloadWritten(c.subarray(4));
    expect(c.byteLength).toBe(size);
    payloadWritten(c.subarray(4));
    expect(c.byteLength).toBe(0);
    releasePayload(c); // twice: nothing more
  });

  it("a write that failed keeps the memory out of the pool", () => {
    const size = freshSize();
    const { alloc, calls } = counting();
    const a = takePayload(size, alloc);
    holdPayload(a);
    releasePayload(a);
    payloadWritten(a, true);
    expect(a.byteLength).toBe(size);
    takePayload(size, alloc);
    expect(calls()).toBe(2);
  });

  it("passOn() of a view into a payload, or of foreign memory, does nothing", () => {
    const size = freshSize();
    const { alloc, calls } = counting();
    const a = takePayload(size, alloc);
    passOn(a.subarray(10));
    holdPayload(a);
    payloadWritten(a);
    const foreign = new Uint8Array(size);
    passOn(foreign);
    expect(holdPayload(foreign)).toBe(false);
    takePayload(size, alloc);
    expect(calls()).toBe(2);
    expect(a.byteLength).toBe(size);
  });

  it("Raw.release() of a Raw the application made leaves its bytes alone", () => {
    const bytes = new Uint8Array(POOL_MIN * 2).fill(5);
    new Raw(bytes).release();
    expect(bytes.byteLength).toBe(POOL_MIN * 2);
    expect(bytes[0]).toBe(5);
  });

  it("the pool is bounded per size class", () => {
    const size = freshSize();
    const all = Array.from({ length: 10 }, () => takePayload(size, counting().alloc));
    const before = pooledBytes();
    for (const p of all) releasePayload(p);
    expect(pooledBytes() - before).toBeLessThanOrEqual(4 * size);
    // Those the pool had no room for were not detached: dropping them costs nothing.
    expect(all.filter((p) => p.byteLength === size).length).toBeGreaterThanOrEqual(6);
  });
});

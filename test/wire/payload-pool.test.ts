import { describe, expect, it } from "vitest";
import {
  isPassedOn,
  POOL_MIN,
  passOn,
  payloadWritten,
  pooledBytes,
  takePayload,
} from "../../src/wire/payload-pool.js";

const alloc = (n: number) => new Uint8Array(n);

describe("payload pool: memory of passed-on payloads is used again, nothing else is", () => {
  it("small payloads are plain allocations, never pooled", () => {
    const p = takePayload(1000, alloc);
    expect(p.buffer.byteLength).toBe(1000);
    passOn(p);
    expect(isPassedOn(p)).toBe(false);
  });

  it("a payload passed on and written gives its memory to the next one of its class", () => {
    const size = POOL_MIN + 100;
    const a = takePayload(size, alloc);
    expect(a.byteLength).toBe(size);
    passOn(a);
    expect(isPassedOn(a)).toBe(true);
    const before = pooledBytes();
    payloadWritten(a);
    expect(pooledBytes()).toBeGreaterThan(before);
    const b = takePayload(size - 10, alloc); // same 64 KiB class, and it fits
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteLength).toBe(size - 10);
    expect(pooledBytes()).toBe(before);
    // Written twice (a stale reference): the second time changes nothing.
    payloadWritten(a);
    expect(pooledBytes()).toBe(before);
  });

  it("a payload nobody passed on is never reused, even once written", () => {
    const a = takePayload(POOL_MIN * 2, alloc);
    payloadWritten(a);
    const b = takePayload(POOL_MIN * 2, alloc);
    expect(b.buffer).not.toBe(a.buffer);
  });

  it("a view into a payload, or a buffer from elsewhere, cannot be passed on", () => {
    const a = takePayload(POOL_MIN * 3, alloc);
    passOn(a.subarray(10));
    expect(isPassedOn(a.subarray(10))).toBe(false);
    passOn(new Uint8Array(POOL_MIN * 3));
    const b = takePayload(POOL_MIN * 3, alloc);
    expect(b.buffer).not.toBe(a.buffer);
  });

  it("the pool is bounded per size class", () => {
    const size = POOL_MIN * 4;
    const all = Array.from({ length: 10 }, () => takePayload(size, alloc));
    const before = pooledBytes();
    for (const p of all) {
      passOn(p);
      payloadWritten(p);
    }
    expect(pooledBytes() - before).toBeLessThanOrEqual(4 * size);
  });
});

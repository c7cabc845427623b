/**
 * Memory of large received payloads, used again when it is known to be free.
 *
 * A fresh 1 MiB buffer costs 256 page faults when the socket first writes into it, which
 * measured more than the copy itself (bench/gateway.bench.ts, 1 MiB echo). Memory can only be
 * reused when nothing refers to it any more, and a decoded Raw is a view that an application
 * may keep for ever, so reuse is opt-in: the one user of a payload that passes it on and keeps
 * nothing of it (the gateway forwarding a call or its answer) says so with passOn(); the
 * channel that writes it hands it back with payloadWritten() once the write is done; the next
 * payload of that size class gets the same memory. Anything else is left to the GC as before.
 *
 * Bounded: payloads under POOL_MIN are never pooled, at most POOL_PER_CLASS buffers of one
 * size class and POOL_MAX_BYTES in all wait here. No Node APIs.
 */

/** Smaller payloads come from malloc's own free lists (no fresh pages): not worth pooling. */
export const POOL_MIN = 256 * 1024;
/** Payloads within one step of size share a class (a freed buffer serves any that fits it). */
const CLASS_STEP = 64 * 1024;
const POOL_PER_CLASS = 4;
export const POOL_MAX_BYTES = 32 * 1024 * 1024;

/** The whole buffer behind each pooled payload view, by its ArrayBuffer. */
const wholeOf = new WeakMap<ArrayBufferLike, Uint8Array>();
/** Payload views whose user passes them on once and keeps nothing (passOn). */
const passedOn = new WeakSet<Uint8Array>();
/** Free buffers by size class. */
const free = new Map<number, Uint8Array[]>();
let freeBytes = 0;

/**
 * A buffer of exactly `size` bytes for a received payload: reused memory when the pool has
 * some of its class, else from `allocate`. Its bytes are not cleared: the caller writes them
 * all before anyone sees them (the framer's contract).
 */
export function takePayload(size: number, allocate: (n: number) => Uint8Array): Uint8Array {
  if (size < POOL_MIN) return allocate(size);
  const list = free.get(classOf(size));
  const last = list === undefined ? undefined : list[list.length - 1];
  if (list !== undefined && last !== undefined && last.byteLength >= size) {
    list.pop();
    freeBytes -= last.byteLength;
    return last.subarray(0, size);
  }
  // Fresh memory of exactly this size (a payload is a view of its own whole buffer, as before).
  const fresh = allocate(size);
  if (fresh.byteOffset === 0 && fresh.buffer.byteLength === size) wholeOf.set(fresh.buffer, fresh);
  return fresh;
}

function classOf(size: number): number {
  return Math.ceil(size / CLASS_STEP);
}

/**
 * The caller passes `payload` on (sends it once) and keeps no reference to it or to views of
 * it: once written, its memory may hold another payload. A payload not from the pool is left
 * alone.
 */
export function passOn(payload: Uint8Array): void {
  if (payload.byteOffset === 0 && wholeOf.has(payload.buffer)) passedOn.add(payload);
}

/** Whether a channel should call payloadWritten() once `payload` is written. */
export function isPassedOn(payload: Uint8Array): boolean {
  return passedOn.has(payload);
}

/** A channel wrote `payload` out (the kernel has the bytes): passed-on memory is free again. */
export function payloadWritten(payload: Uint8Array): void {
  if (!passedOn.delete(payload)) return;
  const whole = wholeOf.get(payload.buffer);
  if (whole === undefined) return;
  const capacity = whole.byteLength;
  let list = free.get(classOf(capacity));
  if (list === undefined) {
    list = [];
    free.set(classOf(capacity), list);
  }
  if (list.length >= POOL_PER_CLASS || freeBytes + capacity > POOL_MAX_BYTES) return;
  list.push(whole);
  freeBytes += capacity;
}

/** Bytes waiting in the pool (tests). */
export function pooledBytes(): number {
  return freeBytes;
}

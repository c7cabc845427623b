/**
 * Memory of large received payloads, used again when it is known to be free.
 *
 * A fresh 1 MiB buffer costs 256 page faults when the socket first writes into it, and the
 * garbage collector runs whole-heap collections to free such buffers; both cost more than the
 * copy itself (bench/node.bench.ts, 1 MiB echo). Memory can only be reused when nothing refers
 * to it any more, and a decoded Raw is a view that an application may keep for ever, so reuse
 * is opt-in, by whoever is done with a payload:
 *   - passOn(payload): the gateway forwards it and keeps nothing; free once written.
 *   - releasePayload(view): the application is done with a received message (Raw.release(),
 *     a method declared with `borrowRaw`); free now, or once the writes that send it are done.
 * A SocketChannel that writes a pooled buffer by reference counts the write (holdPayload /
 * payloadWritten), so memory is never reused while the kernel may still read it.
 *
 * Reuse is safe even against a view kept by mistake: the memory goes back to the pool through
 * a transfer of its ArrayBuffer (structuredClone), which detaches the old one. Every view an
 * application or the library kept of it becomes empty (length 0): it can never show another
 * message's bytes. Anything never released is left to the GC as before.
 *
 * Bounded: payloads under POOL_MIN are never pooled, at most POOL_PER_CLASS buffers of one
 * size class and POOL_MAX_BYTES in all wait here. No Node APIs (structuredClone is in browsers).
 */

/** Smaller payloads come from malloc's own free lists (no fresh pages): not worth pooling. */
export const POOL_MIN = 256 * 1024;
/** Payloads within one step of size share a class (a freed buffer serves any that fits it). */
const CLASS_STEP = 64 * 1024;
const POOL_PER_CLASS = 4;
export const POOL_MAX_BYTES = 32 * 1024 * 1024;

/** A pooled buffer in use: how many writes still read it, and whether its user is done. */
interface InUse {
  readonly capacity: number;
  writes: number;
  released: boolean;
  /** A write of it failed: the socket may not be done with it; leave it to the GC. */
  poisoned: boolean;
}

/** Pooled buffers handed out, by their ArrayBuffer (views of one payload share it). */
const inUse = new WeakMap<ArrayBufferLike, InUse>();
/** Free memory by size class, as ArrayBuffers nobody else has a view of. */
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
let reused = 0;

const plainView = (memory: ArrayBuffer, size: number): Uint8Array => new Uint8Array(memory, 0, size);

/**
 * A buffer of exactly `size` bytes for a received payload: reused memory when the pool has
 * some of its class (made a view by `view`, e.g. a Node Buffer), else from `allocate`. Its
 * bytes are not cleared: the caller writes them all before anyone sees them (the framer's
 * contract).
 */
export function takePayload(
  size: number,
  allocate: (n: number) => Uint8Array,
  view: (memory: ArrayBuffer, size: number) => Uint8Array = plainView,
): Uint8Array {
  if (size < POOL_MIN) return allocate(size);
  const list = free.get(classOf(size));
  const last = list === undefined ? undefined : list[list.length - 1];
  if (list !== undefined && last !== undefined && last.byteLength >= size) {
    list.pop();
    freeBytes -= last.byteLength;
    reused++;
    inUse.set(last, { capacity: last.byteLength, writes: 0, released: false, poisoned: false });
    return view(last, size);
  }
  // Fresh memory of exactly this size (a payload is a view of its own whole buffer, as before).
  const fresh = allocate(size);
  if (fresh.byteOffset === 0 && fresh.buffer.byteLength === size)
    inUse.set(fresh.buffer, { capacity: size, writes: 0, released: false, poisoned: false });
  return fresh;
}

function classOf(size: number): number {
  return Math.ceil(size / CLASS_STEP);
}

/**
 * The caller passes `payload` (a whole received payload) on, sends it once and keeps no
 * reference to it or to views of it: once written, its memory may hold another payload. A
 * payload not from the pool, or a view into one, is left alone.
 */
export function passOn(payload: Uint8Array): void {
  if (payload.byteOffset !== 0) return;
  const state = inUse.get(payload.buffer);
  if (state !== undefined) state.released = true;
}

/**
 * The application is done with the received message `view` lies in (any view of its
 * payload): its memory goes back to the pool now, or once the writes that send it are done.
 * Every view of that payload becomes empty then. Memory not from the pool is left alone.
 */
export function releasePayload(view: Uint8Array): void {
  const state = inUse.get(view.buffer);
  if (state === undefined || state.released) return;
  state.released = true;
  if (state.writes === 0) recycle(view.buffer, state);
}

/**
 * A channel is about to write `part` by reference: true when it is pooled memory, and the
 * channel must then call payloadWritten(part) once the write is done (or failed).
 */
export function holdPayload(part: Uint8Array): boolean {
  const state = inUse.get(part.buffer);
  if (state === undefined) return false;
  state.writes++;
  return true;
}

/** A write of `part` is over (`failed`: it may not be): released memory is free again. */
export function payloadWritten(part: Uint8Array, failed = false): void {
  const memory = part.buffer;
  const state = inUse.get(memory);
  if (state === undefined || state.writes === 0) return;
  state.writes--;
  if (failed) state.poisoned = true;
  if (state.writes === 0 && state.released) recycle(memory, state);
}

/** Detaches every view of `memory` and keeps its bytes (the same pages) for the next payload. */
function recycle(memory: ArrayBufferLike, state: InUse): void {
  inUse.delete(memory);
  if (state.poisoned || !(memory instanceof ArrayBuffer)) return;
  let list = free.get(classOf(state.capacity));
  if (list === undefined) {
    list = [];
    free.set(classOf(state.capacity), list);
  }
  if (list.length >= POOL_PER_CLASS || freeBytes + state.capacity > POOL_MAX_BYTES) return;
  let moved: ArrayBuffer;
  try {
    moved = structuredClone(memory, { transfer: [memory] });
  } catch {
    return; // not transferable (e.g. a runtime's own buffer): leave it to the GC
  }
  list.push(moved);
  freeBytes += moved.byteLength;
}

/** Payloads that got memory from the pool so far (tests, benchmarks). */
export function reusedPayloads(): number {
  return reused;
}

/** Bytes waiting in the pool (tests). */
export function pooledBytes(): number {
  return freeBytes;
}

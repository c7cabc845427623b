/**
 * A growable little-endian byte writer over a Uint8Array + DataView (browser-safe).
 * Growth doubles the capacity; `finish()` hands out a view of the written bytes without copying.
 *
 * Gathering: `sizedBytes(b, true)` of a block of at least GATHER_MIN bytes writes its length
 * prefix but keeps the block by reference; `finishParts()` then returns the written bytes and
 * those blocks as parts to be written back to back (a camera frame or a 1 MiB raw is never
 * copied on its way to the socket). Without gathered blocks, `finish()`/`copy()` as before.
 */
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/** Blocks at least this large are gathered by reference rather than copied (sizedBytes(b, true)). */
export const GATHER_MIN = 16 * 1024;

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Number of bytes written so far (in this buffer: gathered blocks are not counted). */
  pos = 0;
  /**
   * Gathered blocks, as [position in the buffer where the block goes, the block] pairs, in
   * order; undefined while there are none (the common case costs nothing).
   */
  private gathered: [number, Uint8Array][] | undefined = undefined;
  /** Total bytes of the gathered blocks. */
  private gatheredBytes = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Bytes written, gathered blocks included. */
  get length(): number {
    return this.pos + this.gatheredBytes;
  }

  /** Whether blocks were gathered by reference since the last reset. */
  get hasGathered(): boolean {
    return this.gathered !== undefined;
  }

  /**
   * Forgets everything written after `pos` (an encode that failed half-way): the buffer
   * position goes back and blocks gathered after it are dropped.
   */
  rewind(pos: number): void {
    this.pos = pos;
    const g = this.gathered;
    if (g === undefined) return;
    while (g.length > 0 && g[g.length - 1][0] > pos) this.gatheredBytes -= g.pop()![1].length;
    if (g.length === 0) this.gathered = undefined;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    // One large write (a camera frame, a 1 MiB raw): grow to about what it needs in one step,
    // not to the next power of two through a chain of copies.
    if (cap < need) cap = need + (need >>> 3);
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  i8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
  }
  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  i16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Overwrites a u32 previously written at `at`. */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** Raw bytes, no length prefix. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * u32 length + bytes (the `s`/`r` layout). With `gather`, a block of GATHER_MIN bytes or more
   * is kept by reference (see finishParts): its bytes must not change until they are sent.
   */
  sizedBytes(b: Uint8Array, gather = false): void {
    if (gather && b.length >= GATHER_MIN) {
      this.u32(b.length);
      if (this.gathered === undefined) this.gathered = [];
      this.gathered.push([this.pos, b]);
      this.gatheredBytes += b.length;
      return;
    }
    this.ensure(4 + b.length);
    this.view.setUint32(this.pos, b.length, true);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }

  /** u32 byte length + UTF-8 bytes. */
  string(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    let len = -1;
    if (n <= 64) {
      // ASCII fast path: TextEncoder call overhead dominates for short strings.
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) len = n;
    }
    if (len < 0) len = encoder.encodeInto(s, buf.subarray(start)).written;
    this.view.setUint32(this.pos, len, true);
    this.pos = start + len;
  }

  /** Forgets the written bytes but keeps the buffer (for scratch use). */
  reset(): void {
    this.pos = 0;
    this.gathered = undefined;
    this.gatheredBytes = 0;
  }

  /**
   * The written bytes as parts to send back to back: views of this buffer between the gathered
   * blocks, and the blocks themselves (no copy). The writer starts over on a fresh buffer. Only
   * meaningful after gathering; without, it is `[finish()]`.
   */
  finishParts(): Uint8Array[] {
    const g = this.gathered;
    const buf = this.buf;
    const end = this.pos;
    this.buf = EMPTY;
    this.view = EMPTY_VIEW;
    this.pos = 0;
    this.gathered = undefined;
    this.gatheredBytes = 0;
    if (g === undefined) return [buf.subarray(0, end)];
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const [pos, block] of g) {
      if (pos > at) parts.push(buf.subarray(at, pos));
      if (block.length > 0) parts.push(block);
      at = pos;
    }
    if (end > at) parts.push(buf.subarray(at, end));
    return parts;
  }

  /**
   * Returns a view of the written bytes (no copy). The writer then starts over on a fresh
   * buffer so that the returned view is never overwritten.
   */
  finish(): Uint8Array {
    if (this.gathered !== undefined) {
      const total = this.length;
      return concatParts(this.finishParts(), total);
    }
    const out = this.buf.subarray(0, this.pos);
    // Lazily reallocated by the next write.
    this.buf = EMPTY;
    this.view = EMPTY_VIEW;
    this.pos = 0;
    return out;
  }

  /**
   * Like finishParts, but the writer keeps its buffer: the pieces of the buffer are copied
   * (they are the small encoded bytes around the blocks), the gathered blocks are not.
   */
  copyParts(): Uint8Array[] {
    const g = this.gathered;
    if (g === undefined) return [this.buf.slice(0, this.pos)];
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const [pos, block] of g) {
      if (pos > at) parts.push(this.buf.slice(at, pos));
      if (block.length > 0) parts.push(block);
      at = pos;
    }
    if (this.pos > at) parts.push(this.buf.slice(at, this.pos));
    return parts;
  }

  /** A copy of the written bytes (gathered blocks copied in); the writer keeps its buffer. */
  copy(): Uint8Array {
    const g = this.gathered;
    if (g === undefined) return this.buf.slice(0, this.pos);
    const out = new Uint8Array(this.length);
    let from = 0;
    let to = 0;
    for (const [pos, block] of g) {
      out.set(this.buf.subarray(from, pos), to);
      to += pos - from;
      out.set(block, to);
      to += block.length;
      from = pos;
    }
    out.set(this.buf.subarray(from, this.pos), to);
    return out;
  }
}

/** The parts back to back in one new array of `total` bytes (one copy). */
export function concatParts(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

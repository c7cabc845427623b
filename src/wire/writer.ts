/**
 * A growable little-endian byte writer over a Uint8Array + DataView (browser-safe).
 * Growth doubles the capacity; `finish()` hands out a view of the written bytes without copying.
 */
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Number of bytes written so far. */
  pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this.buf.length;
  }

  get length(): number {
    return this.pos;
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

  /** u32 length + bytes (the `s`/`r` layout). */
  sizedBytes(b: Uint8Array): void {
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
  }

  /**
   * Returns a view of the written bytes (no copy). The writer then starts over on a fresh
   * buffer so that the returned view is never overwritten.
   */
  finish(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    // Lazily reallocated by the next write.
    this.buf = EMPTY;
    this.view = EMPTY_VIEW;
    this.pos = 0;
    return out;
  }

  /** A copy of the written bytes; the writer keeps its buffer. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

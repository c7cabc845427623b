/**
 * CBOR (RFC 8949) for the messages the bridge sends, written as pieces: the small parts go
 * into one growing buffer, and a large byte string (a camera frame's pixels) is referenced as
 * its own piece, never copied. The socket sends the pieces as the fragments of one WebSocket
 * message, so a 921,600-byte frame is copied by nobody on its way to the kernel. (A general
 * encoder copies the bytes into its output and again into the message; the profile showed
 * that as the largest cost on the camera path.)
 *
 * Values: null/undefined (undefined map values are left out, as JSON does), booleans, numbers
 * (safe integers as integers, the rest as float64), bigints (as 64-bit integers), strings,
 * Uint8Arrays (byte strings), arrays and plain objects (maps with text keys).
 */

/** Byte strings at least this long travel as their own piece (by reference). */
const BY_REFERENCE = 4096;

class PieceWriter {
  readonly pieces: Uint8Array[] = [];
  private buf = Buffer.allocUnsafe(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** A head: major type and argument, in the shortest form. */
  head(major: number, n: number | bigint): void {
    this.room(9);
    const m = major << 5;
    if (typeof n === "bigint" || n > 0xffffffff) {
      this.buf[this.at] = m | 27;
      this.buf.writeBigUInt64BE(BigInt(n), this.at + 1);
      this.at += 9;
    } else if (n < 24) {
      this.buf[this.at++] = m | n;
    } else if (n < 0x100) {
      this.buf[this.at] = m | 24;
      this.buf[this.at + 1] = n;
      this.at += 2;
    } else if (n < 0x10000) {
      this.buf[this.at] = m | 25;
      this.buf.writeUInt16BE(n, this.at + 1);
      this.at += 3;
    } else {
      this.buf[this.at] = m | 26;
      this.buf.writeUInt32BE(n, this.at + 1);
      this.at += 5;
    }
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  float64(x: number): void {
    this.room(9);
    this.buf[this.at] = 0xfb;
    this.buf.writeDoubleBE(x, this.at + 1);
    this.at += 9;
  }

  text(s: string): void {
    const length = Buffer.byteLength(s);
    this.head(3, length);
    this.room(length);
    this.at += this.buf.write(s, this.at, "utf8");
  }

  bytes(b: Uint8Array): void {
    this.head(2, b.byteLength);
    if (b.byteLength >= BY_REFERENCE) {
      this.flush();
      this.pieces.push(b);
      return;
    }
    this.room(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
  }

  /** Ends the current small piece (kept as a view; the next one starts in a fresh buffer). */
  flush(): void {
    if (this.at === 0) return;
    this.pieces.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(256);
    this.at = 0;
  }
}

function write(w: PieceWriter, v: unknown): void {
  if (v === null || v === undefined) w.byte(0xf6);
  else if (typeof v === "boolean") w.byte(v ? 0xf5 : 0xf4);
  else if (typeof v === "number") writeNumber(w, v);
  else if (typeof v === "bigint") {
    if (v >= 0n && v < 1n << 64n) w.head(0, v);
    else if (v < 0n && v >= -(1n << 64n)) w.head(1, -1n - v);
    else w.float64(Number(v));
  } else if (typeof v === "string") w.text(v);
  else if (v instanceof Uint8Array) w.bytes(v);
  else if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const item of v) write(w, item);
  } else if (typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    w.head(5, entries.length);
    for (const [k, x] of entries) {
      w.text(k);
      write(w, x);
    }
  } else throw new TypeError(`cannot encode a ${typeof v} as CBOR`);
}

function writeNumber(w: PieceWriter, v: number): void {
  if (!Number.isSafeInteger(v) || Object.is(v, -0)) w.float64(v);
  else if (v >= 0) w.head(0, v);
  else w.head(1, -1 - v);
}

/** One CBOR item as pieces whose concatenation is its encoding. */
export function encodeCborPieces(value: unknown): Uint8Array[] {
  const w = new PieceWriter();
  write(w, value);
  w.flush();
  return w.pieces;
}

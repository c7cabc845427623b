/**
 * YARP's Bottle: a list of numbers, strings, vocabs, blobs and nested lists, and its binary
 * form on the wire (little-endian; every list starts with a tag and a count, items of a mixed
 * list carry their own tag, items of a homogeneous list `LIST|TAG` carry none).
 *
 * Tags (yarp/os/Bottle.h): INT8 32, INT16 64, INT32 1, INT64 17, VOCAB32 9, FLOAT32 128,
 * FLOAT64 10, STRING 4, BLOB 12, LIST 256, DICT 512.
 */

export const TAG = {
  INT8: 32,
  INT16: 64,
  INT32: 1,
  INT64: 17,
  VOCAB32: 9,
  FLOAT32: 128,
  FLOAT64: 10,
  STRING: 4,
  BLOB: 12,
  LIST: 256,
  DICT: 512,
} as const;

/** A vocab: up to four characters packed little-endian into an int32 (`[ok]`, `[mat]`, `[rgb]`). */
export class Vocab {
  constructor(readonly code: number) {}
  static of(text: string): Vocab {
    let code = 0;
    for (let i = 0; i < Math.min(4, text.length); i++) code |= (text.charCodeAt(i) & 0xff) << (8 * i);
    return new Vocab(code >>> 0);
  }
  get text(): string {
    let s = "";
    for (let i = 0; i < 4; i++) {
      const c = (this.code >>> (8 * i)) & 0xff;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
}

/** A floating-point item: kept apart from integers so 2.0 stays a float on its way through. */
export class Float {
  constructor(readonly value: number) {}
}

/** One item of a Bottle. Integers are numbers (or bigint beyond 2^53), blobs are bytes. */
export type BottleValue = number | bigint | string | Uint8Array | Vocab | Float | BottleValue[];
export type Bottle = BottleValue[];

export class BottleError extends Error {
  override name = "BottleError";
}

/** Limits on what a decoder accepts from a peer. */
export interface BottleLimits {
  maxDepth: number;
  maxItems: number;
}
export const DEFAULT_BOTTLE_LIMITS: BottleLimits = { maxDepth: 32, maxItems: 1_000_000 };

/** Blobs at least this big go out as their own chunk, by reference, not copied. */
const BLOB_BY_REFERENCE = 16 * 1024;

/**
 * Encodes a Bottle as chunks: small items are packed into shared buffers, big blobs (a camera
 * frame) are passed by reference so a 900 KB frame is never copied on its way to the socket.
 */
export function encodeBottle(bottle: Bottle): Uint8Array[] {
  const w = new ChunkWriter();
  writeList(w, bottle);
  return w.finish();
}

/** The Bottle's binary form as one buffer (tests, small replies). */
export function encodeBottleBytes(bottle: Bottle): Uint8Array {
  return Buffer.concat(encodeBottle(bottle));
}

class ChunkWriter {
  private readonly chunks: Uint8Array[] = [];
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v | 0, this.pos);
    this.pos += 4;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.pos);
    this.pos += 8;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    if (b.length >= BLOB_BY_REFERENCE) {
      this.flush();
      this.chunks.push(b);
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(256);
    this.pos = 0;
  }
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

function tagOf(v: BottleValue): number {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v >= -0x80000000 && v <= 0x7fffffff ? TAG.INT32 : TAG.INT64;
    return TAG.FLOAT64;
  }
  if (typeof v === "bigint") return TAG.INT64;
  if (typeof v === "string") return TAG.STRING;
  if (v instanceof Uint8Array) return TAG.BLOB;
  if (v instanceof Vocab) return TAG.VOCAB32;
  if (v instanceof Float) return TAG.FLOAT64;
  if (Array.isArray(v)) return TAG.LIST;
  throw new BottleError(`cannot put a ${typeof v} in a Bottle`);
}

/** A list as a mixed list: its tag, its count, then each item with its own tag. */
function writeList(w: ChunkWriter, list: readonly BottleValue[]): void {
  w.i32(TAG.LIST);
  w.i32(list.length);
  for (const item of list) {
    const tag = tagOf(item);
    if (tag !== TAG.LIST) w.i32(tag);
    writeContent(w, tag, item);
  }
}

function writeContent(w: ChunkWriter, tag: number, v: BottleValue): void {
  switch (tag) {
    case TAG.INT32:
      w.i32(v as number);
      return;
    case TAG.INT64:
      w.i64(BigInt(v as number | bigint));
      return;
    case TAG.FLOAT64:
      w.f64(v instanceof Float ? v.value : (v as number));
      return;
    case TAG.VOCAB32:
      w.i32((v as Vocab).code);
      return;
    case TAG.STRING: {
      const b = Buffer.from(v as string, "utf8");
      w.i32(b.length);
      w.bytes(b);
      return;
    }
    case TAG.BLOB:
      w.i32((v as Uint8Array).length);
      w.bytes(v as Uint8Array);
      return;
    case TAG.LIST:
      writeList(w, v as BottleValue[]);
      return;
  }
}

/** Decodes one binary Bottle; throws BottleError on anything malformed or over the limits. */
export function decodeBottle(bytes: Uint8Array, limits: BottleLimits = DEFAULT_BOTTLE_LIMITS): Bottle {
  const r = new Reader(bytes, limits);
  const tag = r.i32();
  if ((tag & TAG.LIST) === 0) throw new BottleError(`a Bottle starts with a list tag, not ${tag}`);
  return r.listBody(tag & 0xff, 0);
}

/** Decodes a Bottle at the start of `bytes` and says how many bytes it took (replies on a stream). */
export function decodeBottlePrefix(bytes: Uint8Array, limits = DEFAULT_BOTTLE_LIMITS): [Bottle, number] {
  const r = new Reader(bytes, limits);
  const tag = r.i32();
  if ((tag & TAG.LIST) === 0) throw new BottleError(`a Bottle starts with a list tag, not ${tag}`);
  return [r.listBody(tag & 0xff, 0), r.pos];
}

class Reader {
  pos = 0;
  private items = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: BottleLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new BottleError("truncated Bottle");
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private take(n: number): Uint8Array {
    if (n < 0) throw new BottleError("negative length in Bottle");
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  listBody(subtype: number, depth: number): BottleValue[] {
    if (depth >= this.limits.maxDepth) throw new BottleError("Bottle nested too deeply");
    const count = this.i32();
    if (count < 0 || count > this.bytes.length - this.pos + 1)
      throw new BottleError(`bad list length ${count}`);
    const out: BottleValue[] = [];
    for (let i = 0; i < count; i++) {
      if (++this.items > this.limits.maxItems) throw new BottleError("too many items in Bottle");
      out.push(this.item(subtype !== 0 ? subtype : this.i32(), depth));
    }
    return out;
  }
  private item(tag: number, depth: number): BottleValue {
    if (tag & TAG.LIST) return this.listBody(tag & 0xff, depth + 1);
    switch (tag) {
      case TAG.INT8: {
        this.need(1);
        return this.view.getInt8(this.pos++);
      }
      case TAG.INT16: {
        this.need(2);
        const v = this.view.getInt16(this.pos, true);
        this.pos += 2;
        return v;
      }
      case TAG.INT32:
        return this.i32();
      case TAG.INT64: {
        this.need(8);
        const v = this.view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case TAG.VOCAB32:
        return new Vocab(this.i32() >>> 0);
      case TAG.FLOAT32: {
        this.need(4);
        const v = this.view.getFloat32(this.pos, true);
        this.pos += 4;
        return new Float(v);
      }
      case TAG.FLOAT64: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return new Float(v);
      }
      case TAG.STRING: {
        // YARP 2 counted a trailing NUL in the length; YARP 3 does not. Accept both.
        let b = this.take(this.i32());
        if (b.length > 0 && b[b.length - 1] === 0) b = b.subarray(0, b.length - 1);
        return Buffer.from(b.buffer, b.byteOffset, b.length).toString("utf8");
      }
      case TAG.BLOB: {
        // A plain view (not a Buffer) into the message: no copy, one type whatever the input.
        const b = this.take(this.i32());
        return new Uint8Array(b.buffer, b.byteOffset, b.length);
      }
      default:
        throw new BottleError(`unknown Bottle tag ${tag}`);
    }
  }
}

/**
 * A bounds-checked little-endian reader over a Uint8Array view. Every read checks the
 * remaining length and throws WireError ERR_TRUNCATED with the offset; counts are checked
 * against the remaining bytes before anything is allocated (ERR_COUNT_TOO_LARGE).
 * Offsets in errors are positions in `bytes` (the array given to the constructor).
 */
import { WireError } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The allocation budget of one decode, in heap words (8 bytes, what one array slot costs): a
 * decode may make at most UNITS_PER_BYTE × the input's bytes + UNIT_ALLOWANCE units of lists,
 * maps, tuples, structs, dynamics and optionals (BudgetCost), each charged before it is made.
 *
 * Why 8: the most compact honest data, a list of booleans or bytes, costs one unit (its slot)
 * per byte received; a budget of 8 lets honest structures be 8 times as dense (a list of
 * `(bb)` pairs costs 3.5 units per byte, nested pairs `(b(b))` 5.5) while a payload can never
 * make us hold more than ~64 heap bytes per byte received, whatever it describes. Before, 4
 * bytes of `[()]` with count 1,000,000 made a million arrays (~40 MB); now they are refused
 * with ERR_BUDGET. Scalars are not charged: each takes wire bytes at least proportional to
 * what it costs (strings, raw views and bigints are bounded by their bytes). The allowance
 * lets small payloads hold a few hundred empty containers.
 */
export const UNITS_PER_BYTE = 8;
export const UNIT_ALLOWANCE = 4096;

/** What each decoded container costs, in heap words (V8, 64-bit, no pointer compression). */
export const BudgetCost = {
  /** One element of a list, or one member of a tuple: its slot. */
  slot: 1,
  /** An Array object (header, properties, elements, length). */
  array: 4,
  /** A Map object, and each of its entries (key, value, chain link). */
  map: 8,
  mapEntry: 3,
  /** A Struct and its fields object. */
  struct: 8,
  /** A Dynamic or an Optional. */
  box: 5,
} as const;

/** The budget of a decode of `bytes` input bytes. */
export function decodeBudget(bytes: number): number {
  return UNITS_PER_BYTE * bytes + UNIT_ALLOWANCE;
}

export class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  /** Heap words this decode may still allocate (see decodeBudget); charge() draws on it. */
  budget: number;
  /** The budget this reader started with, for error messages. */
  private readonly initialBudget: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = offset;
    this.end = end;
    this.budget = this.initialBudget = decodeBudget(end - offset);
  }

  /** Draws `n` units from the budget before they are allocated; ERR_BUDGET when it is spent. */
  charge(n: number): void {
    if (n > this.budget) this.overBudget(n);
    this.budget -= n;
  }

  private overBudget(n: number): never {
    throw new WireError(
      "ERR_BUDGET",
      `decoding needs ${n} more heap words: over the allocation budget of ${this.initialBudget} for ${(this.initialBudget - UNIT_ALLOWANCE) / UNITS_PER_BYTE} bytes (${UNITS_PER_BYTE} per byte + ${UNIT_ALLOWANCE})`,
      this.pos,
    );
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws ERR_TRUNCATED unless `n` more bytes are available. */
  need(n: number): void {
    if (this.end - this.pos < n) {
      throw new WireError(
        "ERR_TRUNCATED",
        `input ends after ${this.end - this.pos} bytes where ${n} are needed`,
        this.pos,
      );
    }
  }

  u8(): number {
    if (this.pos >= this.end) this.need(1);
    return this.bytes[this.pos++];
  }
  i8(): number {
    if (this.pos >= this.end) this.need(1);
    return this.view.getInt8(this.pos++);
  }
  bool(): boolean {
    return this.u8() !== 0;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** `n` bytes as a view into the input (no copy). */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** u32 length + that many bytes (the `s`/`r` layout), as a view. */
  sizedBytes(): Uint8Array {
    const at = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) {
      this.pos = at;
      throw new WireError(
        "ERR_COUNT_TOO_LARGE",
        `length ${n} exceeds the ${this.end - at - 4} remaining bytes`,
        at,
      );
    }
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * Reads a u32 element count, checks that `count` elements of at least `minSize` bytes each
   * fit in the remaining input, and charges `count × perElement + fixed` units to the budget
   * (zero-size elements are charged like any other).
   */
  count(minSize: number, perElement = 1, fixed = 0): number {
    const at = this.pos;
    const n = this.u32();
    if (n !== 0 && n * minSize > this.end - this.pos) {
      throw new WireError(
        "ERR_COUNT_TOO_LARGE",
        `count ${n} × ${minSize} bytes exceeds the ${this.end - this.pos} remaining bytes`,
        at,
      );
    }
    const cost = n * perElement + fixed;
    if (cost > this.budget) {
      this.pos = at;
      this.overBudget(cost);
    }
    this.budget -= cost;
    return n;
  }

  /**
   * A length-prefixed UTF-8 string. Returns undefined when the bytes are not valid UTF-8
   * (the caller decides: ByteString, error, or lossy text); `lastStringBytes` holds them.
   */
  text(): string | undefined {
    const b = this.sizedBytes();
    this.lastStringBytes = b;
    return decodeUtf8(b);
  }

  /** Offset of the first byte of the last `text()`'s content. */
  get lastStringOffset(): number {
    return this.pos - this.lastStringBytes.length;
  }
  lastStringBytes: Uint8Array = EMPTY;

  /** A length-prefixed string decoded leniently (invalid sequences → U+FFFD). */
  lossyText(): string {
    const b = this.sizedBytes();
    return decodeUtf8(b) ?? utf8Lossy.decode(b);
  }

  /** Throws ERR_TRAILING_BYTES unless the input is exhausted. */
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw new WireError(
        "ERR_TRAILING_BYTES",
        `${this.end - this.pos} bytes left after the value`,
        this.pos,
      );
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Strict UTF-8 decoding; undefined if invalid. */
export function decodeUtf8(b: Uint8Array): string | undefined {
  const n = b.length;
  if (n <= 32) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (b[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

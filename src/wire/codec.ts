/**
 * Signature-driven binary codec (spec §2): encode JS values per a signature, decode bytes
 * per a signature. Decoding is safe on untrusted input: every error is a WireError with a
 * code and the byte offset; counts are checked before allocation; nesting is bounded.
 */
import { defaultValue } from "./convert.js";
import { WireError, type WireErrorCode, type WireErrorLocalCode } from "./errors.js";
import { describe, inferSignature } from "./infer.js";
import type { MetaObject } from "./metaobject-types.js";
import { decodeMetaObject, encodeMetaObject, type MetaObjectSendCache } from "./metaobject.js";
import { BudgetCost, Reader } from "./reader.js";
import {
  type MapNode,
  minEncodedSize,
  parseSignature,
  printSignature,
  type SigNode,
  type TupleNode,
  toSigNode,
} from "./signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";
import { Writer } from "./writer.js";

export interface CodecContext {
  /** Shared ObjectPtrUID capability: 20 raw uid bytes follow serviceId/objectId in `o`. */
  objectUid?: boolean;
  /**
   * Shared MetaObjectCache capability: when set, `o` uses the cache format (spec §2.6).
   * `send` is needed to encode objects, `receive` (id → MetaObject, per socket) to decode.
   */
  metaObjectCache?: { send?: MetaObjectSendCache; receive?: Map<number, MetaObject> };
  /** Invalid UTF-8 in `s` throws ERR_BAD_UTF8 instead of decoding to a ByteString. */
  strictUtf8?: boolean;
  /** Maximum nesting of containers and dynamics (default 64) → ERR_DEPTH_EXCEEDED. */
  maxDepth?: number;
  /** Turns a value that is not an ObjectRef into one when encoding `o` (the object layer). */
  exportObject?: (value: unknown) => ObjectRef;
  /** Applied to every decoded `o` (e.g. to build a proxy). */
  importObject?: (ref: ObjectRef) => unknown;
  /** Root label of value paths in ERR_VALUE_MISMATCH messages (default "arg"). */
  pathRoot?: string;
}

export const DEFAULT_MAX_DEPTH = 64;
const NO_CONTEXT: CodecContext = {};
const UID_SIZE = 20;
const ZERO_UID = new Uint8Array(UID_SIZE);

// ---------------------------------------------------------------------------------------------
// Encoding

/** An encoding error on its way up; collects the value path (innermost segment first). */
class PathError extends WireError {
  readonly segments: string[] = [];
  constructor(
    code: WireErrorCode | WireErrorLocalCode,
    readonly detail: string,
  ) {
    super(code, detail);
  }
}

function mismatch(detail: string): never {
  throw new PathError("ERR_VALUE_MISMATCH", detail);
}

function withSegment(e: unknown, segment: string): unknown {
  if (e instanceof PathError) {
    e.segments.push(segment);
    return e;
  }
  if (e instanceof WireError) {
    const p = new PathError(e.code, e.message);
    p.segments.push(segment);
    return p;
  }
  return e;
}

let scratch = new Writer(4096);
let scratchInUse = false;
const SCRATCH_KEEP = 1 << 20;
/** Results at least this large are handed out rather than copied out of the scratch writer. */
const SCRATCH_HAND_OUT = 64 * 1024;

/** Encodes `value` per `sig` into a new Uint8Array. */
export function encode(sig: string | SigNode, value: unknown, ctx: CodecContext = NO_CONTEXT): Uint8Array {
  const node = toSigNode(sig);
  if (scratchInUse) {
    // Re-entered from a hook: use a private writer.
    const w = new Writer();
    encodeInto(w, node, value, ctx);
    return w.finish();
  }
  scratchInUse = true;
  try {
    scratch.reset();
    encodeInto(scratch, node, value, ctx);
    if (scratch.length < SCRATCH_HAND_OUT) return scratch.copy();
    // A large result: hand the writer's buffer out instead of copying it (the next call
    // starts on a fresh scratch).
    const out = scratch.finish();
    scratch = new Writer(4096);
    return out;
  } finally {
    if (scratch.capacity > SCRATCH_KEEP) scratch = new Writer(4096);
    scratchInUse = false;
  }
}

/** Appends the encoding of `value` to `writer`; on error the writer is left as it was. */
export function encodeInto(
  writer: Writer,
  node: SigNode,
  value: unknown,
  ctx: CodecContext = NO_CONTEXT,
): void {
  const start = writer.pos;
  try {
    enc(writer, node, value, ctx, 0);
  } catch (e) {
    writer.pos = start;
    if (e instanceof PathError) {
      let path = ctx.pathRoot ?? "arg";
      for (let i = e.segments.length - 1; i >= 0; i--) path += e.segments[i];
      throw new WireError(e.code, `${path}: ${e.detail}`);
    }
    throw e;
  }
}

function checkEncodeDepth(depth: number, ctx: CodecContext): void {
  if (depth >= (ctx.maxDepth ?? DEFAULT_MAX_DEPTH)) {
    throw new PathError(
      "ERR_DEPTH_EXCEEDED",
      `value nested deeper than ${ctx.maxDepth ?? DEFAULT_MAX_DEPTH}`,
    );
  }
}

function enc(w: Writer, node: SigNode, v: unknown, ctx: CodecContext, depth: number): void {
  switch (node.kind) {
    case "scalar":
      encScalar(w, node.code, v, ctx, depth);
      return;
    case "list":
    case "varargs": {
      if (!Array.isArray(v)) mismatch(`expected an Array for ${printSignature(node)}, got ${describe(v)}`);
      checkEncodeDepth(depth, ctx);
      const el = node.element;
      const n = v.length;
      w.u32(n);
      let i = 0;
      try {
        for (; i < n; i++) enc(w, el, v[i], ctx, depth + 1);
      } catch (e) {
        throw withSegment(e, `[${i}]`);
      }
      return;
    }
    case "map":
      checkEncodeDepth(depth, ctx);
      encMap(w, node, v, ctx, depth);
      return;
    case "tuple":
      checkEncodeDepth(depth, ctx);
      encTuple(w, node, v, ctx, depth);
      return;
    case "optional":
      checkEncodeDepth(depth, ctx);
      if (v instanceof Optional) {
        w.bool(v.hasValue);
        if (v.hasValue) enc(w, node.element, v.value, ctx, depth + 1);
      } else if (v === undefined) {
        w.u8(0);
      } else {
        w.u8(1);
        enc(w, node.element, v, ctx, depth + 1);
      }
      return;
    case "kwargs":
      throw new PathError("ERR_UNSERIALIZABLE", "kwargs (~T) have no wire form");
  }
}

function intValue(v: unknown, lo: number, hi: number, code: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "bigint") n = Number(v);
  else return mismatch(`expected an integer for ${code}, got ${describe(v)}`);
  if (!Number.isInteger(n) || n < lo || n > hi) mismatch(`${String(v)} does not fit ${code}`);
  return n;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

function bigValue(v: unknown, lo: bigint, hi: bigint, code: string): bigint {
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else return mismatch(`expected a bigint or safe integer for ${code}, got ${describe(v)}`);
  if (n < lo || n > hi) mismatch(`${n} does not fit ${code}`);
  return n;
}

function encScalar(w: Writer, code: string, v: unknown, ctx: CodecContext, depth: number): void {
  switch (code) {
    case "b":
      if (typeof v !== "boolean") mismatch(`expected a boolean, got ${describe(v)}`);
      w.u8(v ? 1 : 0);
      return;
    case "c":
      w.i8(intValue(v, -0x80, 0x7f, code));
      return;
    case "C":
      w.u8(intValue(v, 0, 0xff, code));
      return;
    case "w":
      w.i16(intValue(v, -0x8000, 0x7fff, code));
      return;
    case "W":
      w.u16(intValue(v, 0, 0xffff, code));
      return;
    case "i":
      w.i32(intValue(v, -0x80000000, 0x7fffffff, code));
      return;
    case "I":
      w.u32(intValue(v, 0, 0xffffffff, code));
      return;
    case "l":
      w.i64(bigValue(v, I64_MIN, I64_MAX, code));
      return;
    case "L":
      w.u64(bigValue(v, 0n, U64_MAX, code));
      return;
    case "f":
      if (typeof v !== "number") mismatch(`expected a number for f, got ${describe(v)}`);
      w.f32(v);
      return;
    case "d":
      if (typeof v !== "number") mismatch(`expected a number for d, got ${describe(v)}`);
      w.f64(v);
      return;
    case "s":
      if (typeof v === "string") w.string(v);
      else if (v instanceof ByteString) w.sizedBytes(v.bytes);
      else mismatch(`expected a string, got ${describe(v)}`);
      return;
    case "r":
      if (v instanceof Raw) w.sizedBytes(v.bytes);
      else if (v instanceof Uint8Array) w.sizedBytes(v);
      else mismatch(`expected Raw or Uint8Array, got ${describe(v)}`);
      return;
    case "m":
      encDynamic(w, v, ctx, depth);
      return;
    case "o":
      encObject(w, v, ctx);
      return;
    case "v":
      if (v !== undefined && v !== null) mismatch(`expected undefined for v, got ${describe(v)}`);
      return;
    default:
      throw new PathError("ERR_UNSERIALIZABLE", `type ${code} has no wire form`);
  }
}

function encDynamic(w: Writer, v: unknown, ctx: CodecContext, depth: number): void {
  checkEncodeDepth(depth, ctx);
  let sig: string;
  let value: unknown;
  if (v instanceof Dynamic) {
    sig = v.signature;
    value = v.value;
  } else {
    sig = inferSignature(v, ctx.exportObject ? { isObject: () => true } : undefined);
    value = v;
  }
  w.string(sig);
  if (sig === "") return;
  enc(w, parseSignature(sig), value, ctx, depth + 1);
}

function encObject(w: Writer, v: unknown, ctx: CodecContext): void {
  let ref: unknown = v;
  if (!(ref instanceof ObjectRef)) {
    if (ctx.exportObject === undefined) mismatch(`expected an ObjectRef, got ${describe(v)}`);
    ref = ctx.exportObject(v);
    if (!(ref instanceof ObjectRef)) mismatch(`exportObject returned a ${describe(ref)}, not an ObjectRef`);
  }
  const cache = ctx.metaObjectCache;
  if (cache !== undefined) {
    if (cache.send === undefined) {
      throw new PathError("ERR_UNSERIALIZABLE", "metaObjectCache.send is required to encode objects");
    }
    const { id, transmit } = cache.send.lookup(ref.metaObject);
    w.bool(transmit);
    if (transmit) encodeMetaObject(ref.metaObject, w);
    w.u32(id);
  } else {
    encodeMetaObject(ref.metaObject, w);
  }
  w.u32(ref.serviceId);
  w.u32(ref.objectId);
  if (ctx.objectUid) {
    const uid = ref.uid ?? ZERO_UID;
    if (uid.length !== UID_SIZE) mismatch(`object uid must be ${UID_SIZE} bytes, got ${uid.length}`);
    w.bytes(uid);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function encMap(w: Writer, node: MapNode, v: unknown, ctx: CodecContext, depth: number): void {
  let entries: [unknown, unknown][];
  if (v instanceof Map) entries = sortEntries([...v.entries()]);
  else if (isPlainObject(v) && node.key.kind === "scalar" && node.key.code === "s") {
    entries = sortEntries(Object.entries(v));
  } else {
    mismatch(`expected a Map for ${printSignature(node)}, got ${describe(v)}`);
  }
  w.u32(entries.length);
  let i = 0;
  let inKey = true;
  try {
    for (; i < entries.length; i++) {
      inKey = true;
      enc(w, node.key, entries[i][0], ctx, depth + 1);
      inKey = false;
      enc(w, node.value, entries[i][1], ctx, depth + 1);
    }
  } catch (e) {
    const k = entries[i][0];
    const label = typeof k === "string" ? JSON.stringify(k) : typeof k === "object" ? `#${i}` : String(k);
    throw withSegment(e, inKey ? `{key ${label}}` : `[${label}]`);
  }
}

/** libqi emits std::map order: keys ascending (strings bytewise). Sorts scalar keys only. */
function sortEntries(entries: [unknown, unknown][]): [unknown, unknown][] {
  if (entries.length < 2) return entries;
  const t = typeof entries[0][0];
  if (t !== "string" && t !== "number" && t !== "bigint" && t !== "boolean") return entries;
  let sorted = true;
  for (let i = 1; i < entries.length; i++) {
    const k = entries[i][0];
    if (typeof k !== t) return entries;
    if (sorted && compareKeys(entries[i - 1][0], k) > 0) sorted = false;
  }
  return sorted ? entries : entries.sort((a, b) => compareKeys(a[0], b[0]));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === "string") return compareUtf8(a, b as string);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Compares strings in UTF-8 byte (= code point) order. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (supplementary planes) sort after U+E000–U+FFFF in code point order.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function encTuple(w: Writer, node: TupleNode, v: unknown, ctx: CodecContext, depth: number): void {
  const members = node.members;
  if (Array.isArray(v)) {
    if (v.length !== members.length) {
      mismatch(`expected ${members.length} tuple members for ${printSignature(node)}, got ${v.length}`);
    }
    let i = 0;
    try {
      for (; i < members.length; i++) enc(w, members[i], v[i], ctx, depth + 1);
    } catch (e) {
      throw withSegment(e, `[${i}]`);
    }
    return;
  }
  if (
    typeof v !== "object" ||
    v === null ||
    v instanceof Map ||
    v instanceof Dynamic ||
    v instanceof Optional
  ) {
    mismatch(`expected a tuple (Array or Struct) for ${printSignature(node)}, got ${describe(v)}`);
  }
  const names = node.fieldNames;
  if (names === undefined) {
    // Positional from a Struct's fields.
    if (!(v instanceof Struct)) mismatch(`expected an Array for ${printSignature(node)}, got ${describe(v)}`);
    encTuple(w, node, Object.values(v.fields), ctx, depth);
    return;
  }
  // By field name: missing (or undefined) fields get the type's default, extra ones are dropped.
  const fields = v instanceof Struct ? v.fields : (v as Record<string, unknown>);
  const own = v instanceof Struct || isPlainObject(v);
  let i = 0;
  try {
    for (; i < members.length; i++) {
      const name = names[i];
      let fv = own ? (Object.hasOwn(fields, name) ? fields[name] : undefined) : fields[name];
      if (fv === undefined) fv = defaultValue(members[i]);
      enc(w, members[i], fv, ctx, depth + 1);
    }
  } catch (e) {
    throw withSegment(e, `.${names[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes the whole of `bytes` per `sig` (ERR_TRAILING_BYTES if bytes are left over). */
export function decode(sig: string | SigNode, bytes: Uint8Array, ctx: CodecContext = NO_CONTEXT): unknown {
  const r = new Reader(bytes);
  const v = dec(r, toSigNode(sig), ctx, 0);
  r.expectEnd();
  return v;
}

/** Decodes one value per `node` from the reader's position. */
export function decodeFrom(reader: Reader, node: SigNode, ctx: CodecContext = NO_CONTEXT): unknown {
  return dec(reader, node, ctx, 0);
}

function checkDecodeDepth(r: Reader, depth: number, ctx: CodecContext): void {
  const max = ctx.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (depth >= max) throw new WireError("ERR_DEPTH_EXCEEDED", `value nested deeper than ${max}`, r.pos);
}

function dec(r: Reader, node: SigNode, ctx: CodecContext, depth: number): unknown {
  switch (node.kind) {
    case "scalar":
      return decScalar(r, node.code, ctx, depth);
    case "list":
    case "varargs": {
      checkDecodeDepth(r, depth, ctx);
      const el = node.element;
      const n = r.count(minEncodedSize(el), BudgetCost.slot, BudgetCost.array);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dec(r, el, ctx, depth + 1);
      return out;
    }
    case "map": {
      checkDecodeDepth(r, depth, ctx);
      const k = node.key;
      const val = node.value;
      const n = r.count(minEncodedSize(k) + minEncodedSize(val), BudgetCost.mapEntry, BudgetCost.map);
      const out = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const key = dec(r, k, ctx, depth + 1);
        out.set(key, dec(r, val, ctx, depth + 1));
      }
      return out;
    }
    case "tuple": {
      checkDecodeDepth(r, depth, ctx);
      const members = node.members;
      const names = node.fieldNames;
      r.charge(members.length + (names === undefined ? BudgetCost.array : BudgetCost.struct));
      if (names !== undefined) {
        const fields: Record<string, unknown> = {};
        for (let i = 0; i < members.length; i++) fields[names[i]] = dec(r, members[i], ctx, depth + 1);
        return new Struct(node.name ?? "", fields);
      }
      const out = new Array(members.length);
      for (let i = 0; i < members.length; i++) out[i] = dec(r, members[i], ctx, depth + 1);
      return out;
    }
    case "optional":
      checkDecodeDepth(r, depth, ctx);
      r.charge(BudgetCost.box);
      return r.u8() !== 0 ? Optional.of(dec(r, node.element, ctx, depth + 1)) : Optional.NONE;
    case "kwargs":
      throw new WireError("ERR_UNSERIALIZABLE", "kwargs (~T) have no wire form", r.pos);
  }
}

function decScalar(r: Reader, code: string, ctx: CodecContext, depth: number): unknown {
  switch (code) {
    case "b":
      return r.u8() !== 0;
    case "c":
      return r.i8();
    case "C":
      return r.u8();
    case "w":
      return r.i16();
    case "W":
      return r.u16();
    case "i":
      return r.i32();
    case "I":
      return r.u32();
    case "l":
      return r.i64();
    case "L":
      return r.u64();
    case "f":
      return r.f32();
    case "d":
      return r.f64();
    case "s": {
      const s = r.text();
      if (s !== undefined) return s;
      if (ctx.strictUtf8)
        throw new WireError("ERR_BAD_UTF8", "string is not valid UTF-8", r.lastStringOffset);
      return new ByteString(r.lastStringBytes);
    }
    case "r":
      return new Raw(r.sizedBytes());
    case "m":
      return decDynamic(r, ctx, depth);
    case "o":
      return decObject(r, ctx);
    case "v":
      return undefined;
    case "_":
      throw new WireError("ERR_UNSERIALIZABLE", "type _ only occurs in empty containers", r.pos);
    default:
      throw new WireError("ERR_UNSERIALIZABLE", `type ${code} has no wire form`, r.pos);
  }
}

const OFFSET_SUFFIX = / \(at offset \d+\)$/;

function decDynamic(r: Reader, ctx: CodecContext, depth: number): Dynamic {
  checkDecodeDepth(r, depth, ctx);
  const text = r.text();
  const at = r.lastStringOffset;
  if (text === undefined) {
    throw new WireError("ERR_SIGNATURE_INVALID", "dynamic signature is not valid UTF-8", at);
  }
  if (text === "") return Dynamic.EMPTY;
  r.charge(BudgetCost.box);
  let node: SigNode;
  try {
    node = parseSignature(text);
  } catch (e) {
    if (e instanceof WireError) {
      throw new WireError(
        e.code,
        `in dynamic: ${e.message.replace(OFFSET_SUFFIX, "")}`,
        at + (e.offset ?? 0),
      );
    }
    throw e;
  }
  return new Dynamic(text, dec(r, node, ctx, depth + 1));
}

function decObject(r: Reader, ctx: CodecContext): unknown {
  let mo: MetaObject | undefined;
  const cache = ctx.metaObjectCache;
  if (cache !== undefined) {
    const transmit = r.u8() !== 0;
    if (transmit) mo = decodeMetaObject(r);
    const idAt = r.pos;
    const id = r.u32();
    if (mo !== undefined) {
      if (id !== 0xffffffff) cache.receive?.set(id, mo);
    } else {
      mo = cache.receive?.get(id);
      if (mo === undefined) {
        throw new WireError(
          "ERR_BAD_REFERENCE",
          `object reference to unknown MetaObject cache id ${id}`,
          idAt,
        );
      }
    }
  } else {
    mo = decodeMetaObject(r);
  }
  const serviceId = r.u32();
  const objectId = r.u32();
  // The uid is kept long-term by proxies: copy it rather than pin the whole message.
  const uid = ctx.objectUid ? r.bytesView(UID_SIZE).slice() : undefined;
  const ref = new ObjectRef(mo, serviceId, objectId, uid);
  return ctx.importObject ? ctx.importObject(ref) : ref;
}

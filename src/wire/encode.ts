/**
 * Signature-driven encoding (spec §2): JS values to bytes per a signature. Errors are
 * WireErrors whose message names the path of the offending value (`arg[2].name: ...`).
 * Large raw blocks can be gathered by reference (encodeParts) instead of copied.
 */
import { type CodecContext, DEFAULT_MAX_DEPTH, NO_CONTEXT, UID_SIZE } from "./codec-context.js";
import { defaultValue } from "./convert.js";
import { WireError, type WireErrorCode, type WireErrorLocalCode } from "./errors.js";
import { describe, inferSignature } from "./infer.js";
import { encodeMetaObject } from "./metaobject.js";
import {
  type MapNode,
  parseSignature,
  printSignature,
  type SigNode,
  type TupleNode,
  toSigNode,
} from "./signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";
import { GatheredPayload, type Payload } from "./payload.js";
import { Writer } from "./writer.js";

const ZERO_UID = new Uint8Array(UID_SIZE);

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

/**
 * Encodes `value` per `sig` into a new Uint8Array (one array: large raw blocks are copied in
 * once; a sender should use encodePayload, which keeps them by reference).
 */
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
    // Gathered blocks are not in the scratch buffer: copy() allocates the exact size once.
    if (scratch.hasGathered || scratch.length < SCRATCH_HAND_OUT) return scratch.copy();
    // A large result: hand the writer's buffer out instead of copying it (the next call
    // starts on a fresh scratch).
    const out = scratch.finish();
    scratch = new Writer(4096);
    return out;
  } finally {
    releaseScratch();
  }
}

/**
 * Encodes `value` per `sig` for sending: raw (`r`) blocks of GATHER_MIN bytes or more are not
 * copied but kept by reference in a GatheredPayload (their bytes must not change until the
 * message is flushed); anything else is one Uint8Array, as encode().
 */
export function encodePayload(
  sig: string | SigNode,
  value: unknown,
  ctx: CodecContext = NO_CONTEXT,
): Payload {
  if (scratchInUse) return encode(sig, value, ctx);
  scratchInUse = true;
  try {
    scratch.reset();
    encodeInto(scratch, toSigNode(sig), value, ctx);
    if (!scratch.hasGathered) {
      if (scratch.length < SCRATCH_HAND_OUT) return scratch.copy();
      const out = scratch.finish();
      scratch = new Writer(4096);
      return out;
    }
    return new GatheredPayload(scratch.copyParts(), scratch.length);
  } finally {
    releaseScratch();
  }
}

function releaseScratch(): void {
  if (scratch.capacity > SCRATCH_KEEP) scratch = new Writer(4096);
  scratch.reset();
  scratchInUse = false;
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
    writer.rewind(start);
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
      // Gathered by reference when large: the writer's owner decides whether to copy.
      if (v instanceof Raw) w.sizedBytes(v.bytes, true);
      else if (v instanceof Uint8Array) w.sizedBytes(v, true);
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

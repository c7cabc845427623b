/**
 * Signature-driven decoding (spec §2), safe on untrusted input: every error is a WireError
 * with a code and the byte offset; counts are checked before allocation, allocations are
 * charged to the reader's budget (ERR_BUDGET), nesting is bounded (ERR_DEPTH_EXCEEDED).
 * Raw values and non-UTF-8 strings are views of the input, never copies.
 */
import { type CodecContext, DEFAULT_MAX_DEPTH, NO_CONTEXT, UID_SIZE } from "./codec-context.js";
import { WireError } from "./errors.js";
import type { MetaObject } from "./metaobject-types.js";
import { decodeMetaObject } from "./metaobject.js";
import { BudgetCost, Reader } from "./reader.js";
import { minEncodedSize, parseSignature, type SigNode, toSigNode } from "./signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";

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

/**
 * Conversion of decoded values between signatures (libqi's AnyValue conversion, reduced to
 * what the value model needs): numeric widening/narrowing with range checks, structs by field
 * name (spec §2.2 struct versioning), containers elementwise, dynamics wrapped/unwrapped.
 */
import { WireError } from "./errors.js";
import { emptyMetaObject } from "./metaobject.js";
import {
  isStructNode,
  printSignature,
  type SigNode,
  signatureEquals,
  type TupleNode,
  toSigNode,
} from "./signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";

/** The value libqi default-constructs for a type (missing struct fields get these). */
export function defaultValue(sig: string | SigNode): unknown {
  const node = toSigNode(sig);
  switch (node.kind) {
    case "scalar":
      switch (node.code) {
        case "v":
        case "_":
          return undefined;
        case "b":
          return false;
        case "l":
        case "L":
          return 0n;
        case "s":
          return "";
        case "r":
          return new Raw(new Uint8Array(0));
        case "m":
          return Dynamic.EMPTY;
        case "o":
          return new ObjectRef(emptyMetaObject(), 0, 0, undefined);
        case "X":
          throw new WireError("ERR_CONVERSION", "type X has no default value");
        default:
          return 0;
      }
    case "list":
    case "varargs":
      return [];
    case "map":
      return new Map();
    case "optional":
      return Optional.NONE;
    case "kwargs":
      throw new WireError("ERR_CONVERSION", "kwargs have no default value");
    case "tuple": {
      if (isStructNode(node)) {
        const fields: Record<string, unknown> = {};
        node.fieldNames.forEach((n, i) => {
          fields[n] = defaultValue(node.members[i]);
        });
        return new Struct(node.name, fields);
      }
      return node.members.map((m) => defaultValue(m));
    }
  }
}

/**
 * A tuple's values, in signature order, as the app sees them: a Struct when the signature
 * names the tuple and its fields, the array itself otherwise (shared by the JSON and YARP
 * conversions).
 */
export function tupleValue(node: TupleNode, items: unknown[]): unknown[] | Struct {
  if (!node.fieldNames || node.name === undefined) return items;
  const fields: Record<string, unknown> = {};
  node.fieldNames.forEach((f, i) => {
    fields[f] = items[i];
  });
  return new Struct(node.name, fields);
}

/** The range of each integer type code (shared with json.ts). */
export const INT_RANGES: Record<string, [bigint, bigint]> = {
  c: [-0x80n, 0x7fn],
  C: [0n, 0xffn],
  w: [-0x8000n, 0x7fffn],
  W: [0n, 0xffffn],
  i: [-0x80000000n, 0x7fffffffn],
  I: [0n, 0xffffffffn],
  l: [-(2n ** 63n), 2n ** 63n - 1n],
  L: [0n, 2n ** 64n - 1n],
};
const NUMERIC = "bcCwWiIlLfd";

function fail(message: string, path: string): never {
  throw new WireError("ERR_CONVERSION", `${path}: ${message}`);
}

/** Converts `value` (decoded with `fromSig`) to the value model of `toSig`. */
export function convertValue(value: unknown, fromSig: string | SigNode, toSig: string | SigNode): unknown {
  return conv(value, toSigNode(fromSig), toSigNode(toSig), "value", 0);
}

function conv(value: unknown, from: SigNode, to: SigNode, path: string, depth: number): unknown {
  if (depth > 128) fail("nested too deeply", path);
  if (from === to) return value;
  // Anything → dynamic.
  if (to.kind === "scalar" && to.code === "m") {
    if (value instanceof Dynamic) return value;
    return new Dynamic(printSignature(from), value);
  }
  // Dynamic → anything else: unwrap.
  if (from.kind === "scalar" && from.code === "m") {
    if (!(value instanceof Dynamic)) fail("expected a Dynamic", path);
    if (value.signature === "") {
      if (to.kind === "scalar" && to.code === "v") return undefined;
      fail("cannot convert an empty dynamic", path);
    }
    return conv(value.value, toSigNode(value.signature), to, path, depth + 1);
  }
  if (to.kind === "optional") {
    if (from.kind === "optional") {
      if (!(value instanceof Optional)) fail("expected an Optional", path);
      return value.hasValue
        ? Optional.of(conv(value.value, from.element, to.element, path, depth + 1))
        : value;
    }
    return Optional.of(conv(value, from, to.element, path, depth + 1));
  }
  if (from.kind === "optional") {
    if (!(value instanceof Optional)) fail("expected an Optional", path);
    if (!value.hasValue) fail("optional value is absent", path);
    return conv(value.value, from.element, to, path, depth + 1);
  }
  switch (to.kind) {
    case "scalar":
      return convScalar(value, from, to.code, path);
    case "list":
    case "varargs": {
      if ((from.kind !== "list" && from.kind !== "varargs") || !Array.isArray(value)) {
        fail(`cannot convert ${printSignature(from)} to ${printSignature(to)}`, path);
      }
      return value.map((v, i) => conv(v, from.element, to.element, `${path}[${i}]`, depth + 1));
    }
    case "map": {
      if (from.kind !== "map" || !(value instanceof Map)) {
        fail(`cannot convert ${printSignature(from)} to ${printSignature(to)}`, path);
      }
      const out = new Map();
      for (const [k, v] of value) {
        out.set(
          conv(k, from.key, to.key, `${path}.key`, depth + 1),
          conv(v, from.value, to.value, `${path}[${String(k)}]`, depth + 1),
        );
      }
      return out;
    }
    case "tuple":
      return convTuple(value, from, to, path, depth);
    default:
      return fail(`cannot convert to ${printSignature(to)}`, path);
  }
}

function tupleValues(value: unknown, from: SigNode, path: string): unknown[] {
  if (from.kind !== "tuple") fail(`cannot convert ${printSignature(from)} to a tuple`, path);
  if (Array.isArray(value)) return value;
  if (value instanceof Struct && isStructNode(from)) return from.fieldNames.map((n) => value.fields[n]);
  return fail("expected a tuple value", path);
}

function convTuple(
  value: unknown,
  from: SigNode,
  to: SigNode & { kind: "tuple" },
  path: string,
  depth: number,
): unknown {
  if (from.kind !== "tuple") fail(`cannot convert ${printSignature(from)} to ${printSignature(to)}`, path);
  // Same struct name on both sides: by field name, defaults for missing, extras dropped.
  if (isStructNode(to) && isStructNode(from) && from.name === to.name && value instanceof Struct) {
    const fields: Record<string, unknown> = {};
    to.fieldNames.forEach((n, i) => {
      const j = from.fieldNames.indexOf(n);
      fields[n] =
        j < 0
          ? defaultValue(to.members[i])
          : conv(value.fields[n], from.members[j], to.members[i], `${path}.${n}`, depth + 1);
    });
    return new Struct(to.name, fields);
  }
  const values = tupleValues(value, from, path);
  if (from.members.length !== to.members.length || values.length !== to.members.length) {
    fail(`cannot convert ${printSignature(from)} to ${printSignature(to)}`, path);
  }
  const converted = to.members.map((m, i) => conv(values[i], from.members[i], m, `${path}[${i}]`, depth + 1));
  if (isStructNode(to)) {
    const fields: Record<string, unknown> = {};
    to.fieldNames.forEach((n, i) => {
      fields[n] = converted[i];
    });
    return new Struct(to.name, fields);
  }
  return converted;
}

function convScalar(value: unknown, from: SigNode, code: string, path: string): unknown {
  if (from.kind !== "scalar") fail(`cannot convert ${printSignature(from)} to ${code}`, path);
  const fc = from.code;
  if (fc === code && signatureEquals(from, { kind: "scalar", code })) return value;
  if (NUMERIC.includes(fc) && NUMERIC.includes(code)) return convNumber(value, code, path);
  if (code === "s" && fc === "s") return value;
  if (code === "v") return undefined;
  if (code === "r" && fc === "s") {
    if (value instanceof ByteString) return new Raw(value.bytes);
    if (typeof value === "string") return new Raw(new TextEncoder().encode(value));
  }
  return fail(`cannot convert ${fc} to ${code}`, path);
}

function convNumber(value: unknown, code: string, path: string): unknown {
  let n: number | bigint;
  if (typeof value === "boolean") n = value ? 1 : 0;
  else if (typeof value === "number" || typeof value === "bigint") n = value;
  else return fail("expected a number", path);
  if (code === "b") return typeof n === "bigint" ? n !== 0n : n !== 0;
  if (code === "f") return Math.fround(Number(n));
  if (code === "d") return Number(n);
  if (typeof n === "number") {
    if (!Number.isFinite(n)) fail(`${n} does not fit ${code}`, path);
    n = BigInt(Math.trunc(n));
  }
  const [lo, hi] = INT_RANGES[code];
  if (n < lo || n > hi) fail(`${n} does not fit ${code}`, path);
  return code === "l" || code === "L" ? n : Number(n);
}

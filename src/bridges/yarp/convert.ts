/**
 * qi values ↔ Bottle items. qi → YARP follows the value's signature (floats stay floats, raw
 * bytes become blobs, maps and structs become lists of `(key value)` pairs, as YARP's
 * Property does); YARP → qi converts each item by the qi parameter's signature, with the usual
 * leniency of a typed command line (`1`/`0` or `true`/`false` for a bool, a word for a string).
 */
import {
  ByteString,
  Dynamic,
  fromJson,
  Optional,
  parseSignature,
  Raw,
  type SigNode,
  Struct,
  tupleValue,
} from "../../wire/index.js";
import { type Bottle, type BottleValue, Float, Vocab } from "./bottle.js";

export class BottleConversionError extends Error {
  override name = "BottleConversionError";
}

const fail = (path: string, why: string): never => {
  throw new BottleConversionError(`${path}: ${why}`);
};

/** One qi value as a Bottle item. */
export function qiToItem(value: unknown, sig?: SigNode): BottleValue {
  if (value === undefined || value === null) return [];
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    const isFloat = sig?.kind === "scalar" && (sig.code === "f" || sig.code === "d");
    return isFloat || !Number.isInteger(value) ? new Float(value) : value;
  }
  if (typeof value === "bigint")
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  if (typeof value === "string") return value;
  if (value instanceof ByteString) return value.bytes;
  if (value instanceof Raw) return value.bytes;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Dynamic)
    return value.signature === "" ? [] : qiToItem(value.value, parseSignature(value.signature));
  if (value instanceof Optional) return value.hasValue ? qiToItem(value.value, elementOf(sig)) : [];
  if (value instanceof Struct) {
    const members = sig?.kind === "tuple" ? sig.members : [];
    return Object.entries(value.fields).map(([k, v], i) => [k, qiToItem(v, members[i])]);
  }
  if (value instanceof Map) {
    const [ks, vs] = sig?.kind === "map" ? [sig.key, sig.value] : [undefined, undefined];
    return [...value.entries()].map(([k, v]) => [qiToItem(k, ks), qiToItem(v, vs)]);
  }
  if (Array.isArray(value)) {
    if (sig?.kind === "tuple") return value.map((v, i) => qiToItem(v, sig.members[i]));
    const element = elementOf(sig);
    return value.map((v) => qiToItem(v, element));
  }
  return String(value);
}

function elementOf(sig: SigNode | undefined): SigNode | undefined {
  return sig && (sig.kind === "list" || sig.kind === "optional" || sig.kind === "varargs")
    ? sig.element
    : undefined;
}

/** A signal's arguments (or a property's value) as a Bottle: one item per argument. */
export function argsToBottle(args: readonly unknown[], signature: string): Bottle {
  const node = parseSignature(signature);
  if (node.kind === "tuple") return args.map((a, i) => qiToItem(a, node.members[i]));
  return args.map((a) => qiToItem(a, node));
}

/** Bottle items → the arguments of a method whose parameters are `paramsSig` (a tuple signature). */
export function bottleToArgs(items: readonly BottleValue[], paramsSig: string): unknown[] {
  const node = parseSignature(paramsSig);
  const members = node.kind === "tuple" ? node.members : [node];
  if (members.length !== items.length) fail("arguments", `expected ${members.length}, got ${items.length}`);
  return members.map((m, i) => itemToQi(items[i], m, `argument ${i + 1}`));
}

function plain(v: BottleValue): unknown {
  if (v instanceof Float) return v.value;
  if (v instanceof Vocab) return v.text;
  return v;
}

export function itemToQi(v: BottleValue, node: SigNode, path: string): unknown {
  switch (node.kind) {
    case "scalar":
      switch (node.code) {
        case "b":
          if (typeof v === "number") return v !== 0;
          if (v === "true" || (v instanceof Vocab && v.text === "true")) return true;
          if (v === "false" || (v instanceof Vocab && v.text === "false")) return false;
          return fail(path, "expected a bool (1, 0, true or false)");
        case "r":
          if (v instanceof Uint8Array) return new Raw(v);
          if (typeof v === "string") return new Raw(Buffer.from(v, "utf8"));
          return fail(path, "expected a blob {…}");
        case "m":
          return toDynamic(v, path);
        case "s":
          if (typeof v === "string") return v;
          if (v instanceof Vocab) return v.text;
          if (typeof v === "number" || typeof v === "bigint") return String(v);
          return fail(path, "expected a string");
        case "o":
          return fail(path, "objects cannot come from YARP");
        default:
          if (Array.isArray(v) || v instanceof Uint8Array)
            return fail(path, `expected a ${node.code} scalar`);
          return fromJson(plain(v), node, path);
      }
    case "list":
    case "varargs":
      if (!Array.isArray(v)) return fail(path, "expected a list (…)");
      return v.map((x, i) => itemToQi(x, node.element, `${path}[${i}]`));
    case "map": {
      if (!Array.isArray(v)) return fail(path, "expected a list of (key value) pairs");
      const out = new Map<unknown, unknown>();
      v.forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2) fail(`${path}[${i}]`, "expected a (key value) pair");
        const [k, x] = pair as BottleValue[];
        out.set(itemToQi(k, node.key, `${path}[${i}].key`), itemToQi(x, node.value, `${path}[${i}]`));
      });
      return out;
    }
    case "tuple": {
      if (!Array.isArray(v)) return fail(path, "expected a list (…)");
      if (v.length !== node.members.length)
        fail(path, `expected ${node.members.length} items, got ${v.length}`);
      return tupleValue(
        node,
        node.members.map((m, i) => itemToQi(v[i], m, `${path}[${i}]`)),
      );
    }
    case "optional":
      return Array.isArray(v) && v.length === 0
        ? Optional.NONE
        : Optional.of(itemToQi(v, node.element, path));
    default:
      return fail(path, "keyword arguments cannot come from YARP");
  }
}

/** A Bottle item as a qi dynamic, typed by what it is. */
export function toDynamic(v: BottleValue, path = "value"): Dynamic {
  if (typeof v === "number")
    return Number.isInteger(v)
      ? new Dynamic(Math.abs(v) < 2 ** 31 ? "i" : "l", Math.abs(v) < 2 ** 31 ? v : BigInt(v))
      : new Dynamic("d", v);
  if (typeof v === "bigint") return new Dynamic("l", v);
  if (typeof v === "string") return new Dynamic("s", v);
  if (v instanceof Float) return new Dynamic("d", v.value);
  if (v instanceof Vocab) return new Dynamic("s", v.text);
  if (v instanceof Uint8Array) return new Dynamic("r", new Raw(v));
  return new Dynamic(
    "[m]",
    v.map((x, i) => toDynamic(x, `${path}[${i}]`)),
  );
}

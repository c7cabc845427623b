/**
 * JSON ↔ the qi value model, by signature (spec §8.3's JSON arguments, as qicli takes them):
 * what the `qi` command line and the web console both use, so a value typed in either means the
 * same. Pure (no Node modules, no Buffer): it runs in the browser bundle too.
 *
 * To qi: numbers → the integer or float type asked for (range-checked; l/L as bigint), arrays →
 * lists or tuples, objects → maps or structs (by field name), "base64:…" → raw bytes, `m` → a
 * dynamic with the signature the value naturally has. What does not fit throws a
 * ConversionError naming where. Back (toJson): bigint → number when safe, Raw → {"base64": …}
 * (or "<raw N bytes>" for humans), Map → object, Struct → object of its fields.
 */
import { INT_RANGES, tupleValue } from "./convert.js";
import { parseSignature, type SigNode } from "./signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";

/**
 * JSON.parse, keeping integers beyond 2^53 exact (as bigints): JSON.parse alone loses them
 * (Node 20 has no source access in revivers).
 */
export function parseJson(text: string): unknown {
  const marked = protectBigIntegers(text);
  const value = JSON.parse(marked);
  return marked === text ? value : restoreBigIntegers(value);
}

const BIG = "\u0000bigint:";

/**
 * JSON.parse loses integers beyond 2^53 (Node 20 has no source access in revivers): integer
 * literals that long are turned into marked strings first, and into bigints after parsing.
 */
function protectBigIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && (c === "-" || (c >= "0" && c <= "9"))) {
      const lit = m[0];
      out += /^-?\d+$/.test(lit) && !Number.isSafeInteger(Number(lit)) ? JSON.stringify(BIG + lit) : lit;
      i += lit.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function restoreBigIntegers(v: unknown): unknown {
  if (typeof v === "string") return v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v;
  if (Array.isArray(v)) return v.map(restoreBigIntegers);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restoreBigIntegers(x)]));
  return v;
}

export class ConversionError extends Error {
  override name = "ConversionError";
}

function fail(path: string, message: string): never {
  throw new ConversionError(`${path}: ${message}`);
}

/** Converts a JSON value to the value model of `sig`; throws ConversionError when it does not fit. */
const NON_FINITE = new Map<string, number>([
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
]);

export function fromJson(value: unknown, sig: string | SigNode, path = "value"): unknown {
  const node = typeof sig === "string" ? parseSignature(sig) : sig;
  switch (node.kind) {
    case "scalar":
      return scalar(value, node.code, path);
    case "list":
    case "varargs":
      if (!Array.isArray(value)) fail(path, `expected a JSON array for ${sigText(node)}`);
      return value.map((v, i) => fromJson(v, node.element, `${path}[${i}]`));
    case "map": {
      const out = new Map<unknown, unknown>();
      if (Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2)) {
        for (const [k, v] of value as [unknown, unknown][])
          out.set(fromJson(k, node.key, `${path}.key`), fromJson(v, node.value, `${path}[${String(k)}]`));
        return out;
      }
      if (!isObject(value)) fail(path, "expected a JSON object for a map");
      for (const [k, v] of Object.entries(value))
        out.set(mapKey(k, node.key, path), fromJson(v, node.value, `${path}.${k}`));
      return out;
    }
    case "tuple": {
      if (node.fieldNames && node.name !== undefined && isObject(value)) {
        const fields: Record<string, unknown> = {};
        node.fieldNames.forEach((f, i) => {
          if (!Object.hasOwn(value, f)) fail(path, `missing field "${f}" of ${node.name}`);
          fields[f] = fromJson(value[f], node.members[i], `${path}.${f}`);
        });
        const extra = Object.keys(value).filter((k) => !node.fieldNames!.includes(k));
        if (extra.length > 0) fail(path, `unknown field(s) ${extra.join(", ")} for ${node.name}`);
        return new Struct(node.name, fields);
      }
      if (!Array.isArray(value)) fail(path, `expected a JSON array of ${node.members.length} for a tuple`);
      if (value.length !== node.members.length)
        fail(path, `expected ${node.members.length} elements, got ${value.length}`);
      return tupleValue(
        node,
        node.members.map((m, i) => fromJson(value[i], m, `${path}[${i}]`)),
      );
    }
    case "optional":
      return value === null ? Optional.NONE : Optional.of(fromJson(value, node.element, path));
    case "kwargs":
      return fail(path, "keyword arguments cannot be given as JSON");
  }
}

/** Converts a whole argument list by a parameter tuple signature. */
export function argsFromJson(values: unknown[], paramsSig: string): unknown[] {
  const node = parseSignature(paramsSig);
  if (node.kind === "scalar" && node.code === "m") return values.map(jsonToDynamic);
  if (node.kind !== "tuple") return [fromJson(values[0], node, "argument 1")];
  if (node.members.length !== values.length) {
    fail("arguments", `expected ${node.members.length}, got ${values.length}`);
  }
  return node.members.map((m, i) => fromJson(values[i], m, `argument ${i + 1}`));
}

function scalar(value: unknown, code: string, path: string): unknown {
  switch (code) {
    case "b":
      if (typeof value !== "boolean") fail(path, "expected true or false");
      return value;
    case "c":
    case "C":
    case "w":
    case "W":
    case "i":
    case "I":
    case "l":
    case "L": {
      let n: bigint;
      if (typeof value === "number" && Number.isInteger(value)) n = BigInt(value);
      else if (typeof value === "bigint") n = value;
      else if (typeof value === "string" && /^-?\d+$/.test(value)) n = BigInt(value);
      else return fail(path, `expected an integer for ${code}`);
      const [lo, hi] = INT_RANGES[code];
      if (n < lo || n > hi) fail(path, `${n} is out of range for ${code}`);
      return code === "l" || code === "L" ? n : Number(n);
    }
    case "f":
    case "d": {
      // toJson writes the non-finite ones as these strings (JSON has no literal for them).
      const n =
        typeof value === "number"
          ? value
          : typeof value === "bigint"
            ? Number(value)
            : (NON_FINITE.get(value as string) ?? fail(path, "expected a number"));
      // A float32 from its shortest decimal (0.8) is the float32 it was written from.
      return code === "f" ? Math.fround(n) : n;
    }
    case "s":
      if (typeof value !== "string") fail(path, "expected a string");
      return value;
    case "r":
      return rawFromJson(value, path);
    case "m":
      return jsonToDynamic(value);
    case "v":
      if (value !== null) fail(path, "expected null");
      return undefined;
    case "o":
      return fail(path, "objects cannot be given as JSON");
    default:
      return fail(path, `type ${code} cannot be given as JSON`);
  }
}

/** Raw bytes: "base64:…", {"base64": "…"}, an array of byte values, or any other string as UTF-8. */
function rawFromJson(value: unknown, path: string): Raw {
  if (typeof value === "string") {
    if (value.startsWith("base64:")) return new Raw(base64ToBytes(value.slice(7), path));
    return new Raw(new TextEncoder().encode(value));
  }
  if (isObject(value) && typeof value.base64 === "string") return new Raw(base64ToBytes(value.base64, path));
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
    return new Raw(Uint8Array.from(value as number[]));
  return fail(path, 'expected "base64:…", a string or an array of bytes for raw');
}

function mapKey(key: string, node: SigNode, path: string): unknown {
  if (node.kind === "scalar" && "cCwWiIlLfd".includes(node.code)) {
    const n = Number(key);
    if (key.trim() === "" || Number.isNaN(n)) fail(path, `map key "${key}" is not a number`);
    return scalar("lL".includes(node.code) ? key : n, node.code, `${path}.key`);
  }
  if (node.kind === "scalar" && node.code === "b") {
    if (key !== "true" && key !== "false") fail(path, `map key "${key}" is not a boolean`);
    return key === "true";
  }
  return fromJson(key, node, `${path}.key`);
}

/**
 * A JSON value as a dynamic with the signature it naturally has: integers → i (l beyond 32
 * bits), other numbers → d, arrays → [T] when all elements share a type (else [m]), objects →
 * {sT} (or {sm}), null → the empty dynamic.
 */
export function jsonToDynamic(value: unknown): Dynamic {
  if (value === null || value === undefined) return Dynamic.EMPTY;
  switch (typeof value) {
    case "boolean":
      return new Dynamic("b", value);
    case "number":
      if (Number.isInteger(value)) {
        return value >= -0x80000000 && value <= 0x7fffffff
          ? new Dynamic("i", value)
          : new Dynamic("l", BigInt(value));
      }
      return new Dynamic("d", value);
    case "string":
      return new Dynamic("s", value);
    case "bigint":
      return value > 2n ** 63n - 1n ? new Dynamic("L", value) : new Dynamic("l", value);
  }
  if (Array.isArray(value)) {
    const items = value.map(jsonToDynamic);
    const sig = commonSignature(items);
    return sig === undefined
      ? new Dynamic("[m]", items)
      : new Dynamic(
          `[${sig}]`,
          items.map((d) => d.value),
        );
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => [k, jsonToDynamic(v)] as const,
  );
  const sig = commonSignature(entries.map(([, d]) => d));
  return sig === undefined
    ? new Dynamic("{sm}", new Map(entries))
    : new Dynamic(`{s${sig}}`, new Map(entries.map(([k, d]) => [k, d.value])));
}

function commonSignature(items: Dynamic[]): string | undefined {
  if (items.length === 0) return undefined;
  const first = items[0].signature;
  if (first === "") return undefined;
  return items.every((d) => d.signature === first) ? first : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sigText(node: SigNode): string {
  return node.kind === "list" ? "a list" : "varargs";
}

function base64ToBytes(text: string, path: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    return fail(path, "not valid base64");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x8000)));
  return btoa(bin);
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The qi value model as JSON: bigint → number when safe (else a decimal string), Raw →
 * `{"base64": …}` (or `"<raw N bytes>"` for humans), Map → object (or a list of [key, value]
 * pairs when keys are not scalars), Struct → object of its fields, Dynamic → its value,
 * Optional → value or null, ObjectRef → {"object": "service.object"}, any other class instance
 * (a remote object's proxy) → "<object>".
 */
export function toJson(value: unknown, mode: "json" | "human" = "json", depth = 0): unknown {
  if (depth > 256) return "<too deep>";
  const next = (v: unknown) => toJson(v, mode, depth + 1);
  switch (typeof value) {
    case "undefined":
      return null;
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "string":
    case "boolean":
      return value;
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return null;
  if (value instanceof Dynamic) return next(value.value);
  if (value instanceof Raw || value instanceof Uint8Array) {
    const bytes = value instanceof Raw ? value.bytes : value;
    return mode === "human" ? `<raw ${bytes.byteLength} bytes>` : { base64: bytesToBase64(bytes) };
  }
  if (value instanceof ByteString) {
    const text = strictUtf8(value.bytes);
    if (text !== undefined) return text;
    return mode === "human"
      ? `<binary ${value.bytes.byteLength} bytes: ${bytesToHex(value.bytes)}>`
      : { base64: bytesToBase64(value.bytes) };
  }
  if (value instanceof Optional) return value.hasValue ? next(value.value) : null;
  if (value instanceof Struct) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value.fields)) out[k] = next(v);
    return out;
  }
  if (value instanceof ObjectRef) return { object: `${value.serviceId}.${value.objectId}` };
  if (Array.isArray(value)) return value.map(next);
  if (value instanceof Map) {
    const keys = [...value.keys()].map((k) => (k instanceof Dynamic ? k.value : k));
    if (
      keys.every(
        (k) =>
          typeof k === "string" || typeof k === "number" || typeof k === "bigint" || typeof k === "boolean",
      )
    ) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of value) out[String(k instanceof Dynamic ? k.value : k)] = next(v);
      return out;
    }
    return [...value].map(([k, v]) => [next(k), next(v)]);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return "<object>";
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = next(v);
  return out;
}

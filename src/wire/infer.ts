/**
 * Signature inference for plain JS values placed in a dynamic (`m`).
 */
import { WireError } from "./errors.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "./values.js";

const INFER_MAX_DEPTH = 64;

export interface InferOptions {
  /**
   * Class instances (and functions) that are none of the value-model classes infer as `o`
   * when this returns true (the object layer exports them); otherwise they are an error.
   */
  isObject?: (value: unknown) => boolean;
}

/**
 * boolean→b, int32 number→i, other number→d, bigint→l, string→s, Uint8Array/Raw→r,
 * Array→[T] (or [m] when elements differ or the array is empty), Map/plain object→{KV}
 * (`m` where types differ), Dynamic→m, Struct→annotated tuple, Optional→+T, ObjectRef→o,
 * null/undefined→v.
 */
export function inferSignature(value: unknown, options?: InferOptions): string {
  return infer(value, options, 0);
}

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff;
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function common(values: Iterable<unknown>, options: InferOptions | undefined, depth: number): string {
  let sig: string | undefined;
  for (const v of values) {
    const s = infer(v, options, depth);
    if (sig === undefined) sig = s;
    else if (s !== sig) return "m";
  }
  return sig ?? "m";
}

function infer(value: unknown, options: InferOptions | undefined, depth: number): string {
  if (depth > INFER_MAX_DEPTH) {
    throw new WireError("ERR_DEPTH_EXCEEDED", `value nested deeper than ${INFER_MAX_DEPTH} (cyclic?)`);
  }
  switch (typeof value) {
    case "boolean":
      return "b";
    case "number":
      return isInt32(value) ? "i" : "d";
    case "bigint":
      return "l";
    case "string":
      return "s";
    case "undefined":
      return "v";
    case "object": {
      if (value === null) return "v";
      if (value instanceof Dynamic) return "m";
      if (value instanceof ByteString) return "s";
      if (value instanceof Raw || value instanceof Uint8Array) return "r";
      if (value instanceof ObjectRef) return "o";
      if (value instanceof Optional) {
        return value.hasValue ? `+${infer(value.value, options, depth + 1)}` : "+m";
      }
      if (value instanceof Struct) {
        const names = Object.keys(value.fields);
        let members = "";
        for (const n of names) members += infer(value.fields[n], options, depth + 1);
        return `(${members})<${[value.name, ...names].join(",")}>`;
      }
      if (Array.isArray(value)) return `[${common(value, options, depth + 1)}]`;
      if (value instanceof Map) {
        if (value.size === 0) return "{mm}";
        return `{${common(value.keys(), options, depth + 1)}${common(value.values(), options, depth + 1)}}`;
      }
      if (isPlainObject(value)) return `{s${common(Object.values(value), options, depth + 1)}}`;
      if (options?.isObject?.(value)) return "o";
      break;
    }
    case "function":
      if (options?.isObject?.(value)) return "o";
      break;
  }
  throw new WireError("ERR_VALUE_MISMATCH", `cannot infer a signature for a ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name ? ctor.name : "object";
}

/**
 * `f` values are float32 on the wire: 0.3 comes back as 0.30000001192092896. For printing,
 * each float32 becomes the shortest decimal that is the same float32 (0.3), guided by the
 * signature the value was decoded with. Shared by the CLI and the web console.
 */
import { parseSignature, type SigNode } from "./signature.js";
import { Dynamic, Struct } from "./values.js";

export function shortFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

/** A copy of `value` with its float32 parts shortened (other values unchanged). */
export function tidyFloats(value: unknown, sig: string | SigNode, depth = 0): unknown {
  if (depth > 64) return value;
  let node: SigNode;
  try {
    node = typeof sig === "string" ? parseSignature(sig) : sig;
  } catch {
    return value;
  }
  const next = (v: unknown, s: SigNode) => tidyFloats(v, s, depth + 1);
  switch (node.kind) {
    case "scalar":
      if (node.code === "f" && typeof value === "number") return shortFloat32(value);
      if (node.code === "m" && value instanceof Dynamic && value.signature !== "") {
        return new Dynamic(value.signature, next(value.value, parseSignature(value.signature)));
      }
      return value;
    case "list":
    case "varargs":
      return Array.isArray(value) ? value.map((v) => next(v, node.element)) : value;
    case "optional":
      return value;
    case "map":
      if (!(value instanceof Map)) return value;
      return new Map([...value].map(([k, v]) => [next(k, node.key), next(v, node.value)]));
    case "tuple":
      if (Array.isArray(value)) return value.map((v, i) => (node.members[i] ? next(v, node.members[i]) : v));
      if (value instanceof Struct && node.fieldNames) {
        const fields: Record<string, unknown> = {};
        node.fieldNames.forEach((f, i) => {
          fields[f] = next(value.fields[f], node.members[i]);
        });
        return new Struct(value.name, fields);
      }
      return value;
    default:
      return value;
  }
}

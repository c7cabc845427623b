/**
 * A JSON Schema (draft 2020-12) for the JSON a qi value of a signature becomes (wire's
 * toJson): what an MCAP `jsonschema` channel carries, so Foxglove and other readers know the
 * fields. Raw bytes are `{"base64": …}` (toJson's form, which fromJson takes back); 64-bit
 * integers beyond 2^53 and non-finite floats are strings (toJson again).
 */
import { parseSignature, type SigNode } from "../wire/index.js";

export type JsonSchema = Record<string, unknown>;

const INTEGER_CODES = "cCwWiI";

/** The schema of one value of `signature`. */
export function valueSchema(signature: string | SigNode, depth = 0): JsonSchema {
  const node = typeof signature === "string" ? parseSignature(signature) : signature;
  if (depth > 32) return {};
  const next = (n: SigNode) => valueSchema(n, depth + 1);
  switch (node.kind) {
    case "scalar":
      return scalarSchema(node.code);
    case "list":
    case "varargs":
      return { type: "array", items: next(node.element) };
    case "map":
      // toJson gives an object when keys are scalars, else a list of [key, value] pairs.
      return node.key.kind === "scalar"
        ? { type: "object", additionalProperties: next(node.value) }
        : { type: "array", items: { type: "array", prefixItems: [next(node.key), next(node.value)] } };
    case "tuple":
      if (node.name !== undefined && node.fieldNames)
        return {
          type: "object",
          title: node.name,
          properties: Object.fromEntries(node.fieldNames.map((f, i) => [f, next(node.members[i])])),
        };
      return { type: "array", prefixItems: node.members.map(next), items: false };
    case "optional":
      return { anyOf: [next(node.element), { type: "null" }] };
    case "kwargs":
      return {};
  }
}

function scalarSchema(code: string): JsonSchema {
  if (INTEGER_CODES.includes(code)) return { type: "integer" };
  switch (code) {
    case "b":
      return { type: "boolean" };
    case "l":
    case "L":
      return { type: ["integer", "string"] };
    case "f":
    case "d":
      return { type: ["number", "string"] };
    case "s":
      return { type: "string" };
    case "r":
      return {
        type: "object",
        properties: { base64: { type: "string", contentEncoding: "base64" } },
      };
    case "v":
      return { type: "null" };
    default:
      return {}; // m (any value), o (an object: recorded as its description only)
  }
}

/** The members of a parameter tuple signature (`(is)` → [i, s]); a lone non-tuple is one member. */
export function tupleMembers(signature: string): SigNode[] {
  const node = parseSignature(signature);
  return node.kind === "tuple" ? [...node.members] : [node];
}

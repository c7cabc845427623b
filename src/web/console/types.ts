/// <reference lib="dom" />
/** Signatures and values as the console shows them: readable types, one-line values. */
import { parseSignature, printSignature, toJson } from "../client/index.js";
import { h } from "./dom.js";

type SigNode = ReturnType<typeof parseSignature>;

/** A value on one line, as JSON (raw bytes as `<raw N bytes>`). */
export function show(v: unknown): string {
  return JSON.stringify(toJson(v, "human")) ?? "null";
}

/** `(ii)` → ["i", "i"], readable. */
export function memberTypes(sig: string): string[] {
  try {
    const node = parseSignature(sig);
    if (node.kind === "tuple" && node.fieldNames === undefined)
      return node.members.map((m) => printSignature(m));
    return [printSignature(node)];
  } catch {
    return [sig];
  }
}

const TYPE_NAMES: Record<string, string> = {
  b: "bool",
  c: "int8",
  C: "uint8",
  w: "int16",
  W: "uint16",
  i: "int32",
  I: "uint32",
  l: "int64",
  L: "uint64",
  f: "float",
  d: "double",
  s: "string",
  r: "raw",
  m: "value",
  o: "object",
  v: "void",
  X: "unknown",
};

/** A readable type: `[s]` → `list<string>`, `{si}` → `map<string,int32>`. */
export function readableType(sig: string): string {
  let node: SigNode;
  try {
    node = parseSignature(sig);
  } catch {
    return sig;
  }
  const r = (n: SigNode): string => {
    switch (n.kind) {
      case "scalar":
        return TYPE_NAMES[n.code] ?? n.code;
      case "list":
        return `list<${r(n.element)}>`;
      case "map":
        return `map<${r(n.key)},${r(n.value)}>`;
      case "tuple":
        return n.name ? n.name : `(${n.members.map(r).join(", ")})`;
      case "optional":
        return `optional<${r(n.element)}>`;
      case "varargs":
        return `${r(n.element)}...`;
      case "kwargs":
        return `kwargs<${r(n.element)}>`;
    }
  };
  return r(node);
}

export function sigLine(name: string, types: string[], paramNames: string[] = [], ret?: string): HTMLElement {
  const line = h("span", { class: "sig" }, h("span", { class: "name", text: name }), "(");
  types.forEach((t, i) => {
    if (i > 0) line.append(", ");
    line.append(h("span", { class: "type", text: readableType(t) }));
    if (paramNames[i]) line.append(` ${paramNames[i]}`);
  });
  line.append(")");
  if (ret !== undefined) line.append(" → ", h("span", { class: "type", text: readableType(ret) }));
  return line;
}

/**
 * qi type signatures (spec §2.1–2.2): parsing, printing, structural equality.
 *
 * Parsed nodes are cached and shared between callers: treat them as immutable.
 */
import { WireError } from "./errors.js";

export type ScalarCode =
  | "v"
  | "b"
  | "c"
  | "C"
  | "w"
  | "W"
  | "i"
  | "I"
  | "l"
  | "L"
  | "f"
  | "d"
  | "s"
  | "r"
  | "m"
  | "o"
  | "X"
  | "_";

export interface ScalarNode {
  readonly kind: "scalar";
  readonly code: ScalarCode;
  readonly annotation?: string;
}
export interface ListNode {
  readonly kind: "list";
  readonly element: SigNode;
  readonly annotation?: string;
}
export interface MapNode {
  readonly kind: "map";
  readonly key: SigNode;
  readonly value: SigNode;
  readonly annotation?: string;
}
export interface TupleNode {
  readonly kind: "tuple";
  readonly members: readonly SigNode[];
  /** Struct name, set when the annotation is `<Name,f1,…,fn>` with n = member count. */
  readonly name?: string;
  readonly fieldNames?: readonly string[];
  readonly annotation?: string;
}
export interface OptionalNode {
  readonly kind: "optional";
  readonly element: SigNode;
  readonly annotation?: string;
}
/** `#T`: encoded like `[T]`. */
export interface VarArgsNode {
  readonly kind: "varargs";
  readonly element: SigNode;
  readonly annotation?: string;
}
/** `~T`: grammar only, not serializable. */
export interface KwArgsNode {
  readonly kind: "kwargs";
  readonly element: SigNode;
  readonly annotation?: string;
}

export type SigNode = ScalarNode | ListNode | MapNode | TupleNode | OptionalNode | VarArgsNode | KwArgsNode;

/** Maximum nesting of containers in a signature. */
export const MAX_SIGNATURE_DEPTH = 64;

const SCALAR_CODES = "vbcCwWiIlLfdsrmoX_";
const CACHE_LIMIT = 1024;
const CACHE_MAX_TEXT = 4096;
const cache = new Map<string, SigNode>();

/** Parses a complete signature (exactly one element). Results are cached. */
export function parseSignature(text: string): SigNode {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const p = new Parser(text);
  const node = p.element(0);
  if (p.pos !== text.length) p.fail(`expected end of signature, got '${text[p.pos]}'`);
  if (text.length <= CACHE_MAX_TEXT) {
    if (cache.size >= CACHE_LIMIT) {
      // Drop the oldest entry (Map iteration order is insertion order).
      const first = cache.keys().next();
      if (!first.done) cache.delete(first.value);
    }
    cache.set(text, node);
  }
  return node;
}

/** Parses `text` as a signature, or returns a node unchanged. */
/** Whether a value of this signature holds, somewhere, a scalar whose type code passes `test`. */
export function signatureContains(node: SigNode, test: (code: string) => boolean): boolean {
  switch (node.kind) {
    case "scalar":
      return test(node.code);
    case "list":
    case "varargs":
    case "optional":
    case "kwargs":
      return signatureContains(node.element, test);
    case "map":
      return signatureContains(node.key, test) || signatureContains(node.value, test);
    case "tuple":
      return node.members.some((m) => signatureContains(m, test));
  }
}

const objectBearing = new Map<string, boolean>();

/**
 * True when a value of this signature can contain an object reference (`o`, or a dynamic that
 * might): what a forwarder must decode instead of passing the bytes on. Cached per signature;
 * an unparsable signature is false (its payload goes as it is).
 */
export function mayContainObject(signature: string): boolean {
  let known = objectBearing.get(signature);
  if (known === undefined) {
    try {
      known = signatureContains(parseSignature(signature), (code) => code === "o" || code === "m");
    } catch {
      known = false;
    }
    if (objectBearing.size > 4096) objectBearing.clear();
    objectBearing.set(signature, known);
  }
  return known;
}

export function toSigNode(sig: string | SigNode): SigNode {
  return typeof sig === "string" ? parseSignature(sig) : sig;
}

const CLOSERS: Record<string, string> = { "<": ">", "(": ")", "[": "]", "{": "}" };

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string, at = this.pos): never {
    throw new WireError(
      "ERR_SIGNATURE_INVALID",
      `invalid signature ${JSON.stringify(this.text)}: ${message}`,
      at,
    );
  }

  private describe(): string {
    return this.pos >= this.text.length ? "end of signature" : `'${this.text[this.pos]}'`;
  }

  element(depth: number): SigNode {
    const text = this.text;
    if (this.pos >= text.length) this.fail("expected a type, got end of signature");
    const start = this.pos;
    const ch = text[this.pos];
    let node: SigNode;
    if (SCALAR_CODES.includes(ch)) {
      this.pos++;
      node = { kind: "scalar", code: ch as ScalarCode };
    } else {
      if (depth >= MAX_SIGNATURE_DEPTH) {
        throw new WireError(
          "ERR_DEPTH_EXCEEDED",
          `signature nested deeper than ${MAX_SIGNATURE_DEPTH}`,
          start,
        );
      }
      this.pos++;
      switch (ch) {
        case "[": {
          const element = this.element(depth + 1);
          this.expect("]", `to close the list opened at ${start}`);
          node = { kind: "list", element };
          break;
        }
        case "{": {
          if (text[this.pos] === "}") this.fail("expected a map key type, got '}'");
          const key = this.element(depth + 1);
          if (text[this.pos] === "}") this.fail("expected a map value type, got '}'");
          const value = this.element(depth + 1);
          this.expect("}", `to close the map opened at ${start}`);
          node = { kind: "map", key, value };
          break;
        }
        case "(": {
          const members: SigNode[] = [];
          while (this.pos < text.length && text[this.pos] !== ")") {
            if ("]}>".includes(text[this.pos])) break; // reported by expect() below
            members.push(this.element(depth + 1));
          }
          this.expect(")", `to close the tuple opened at ${start}`);
          node = { kind: "tuple", members };
          break;
        }
        case "+":
          node = { kind: "optional", element: this.element(depth + 1) };
          break;
        case "#":
          node = { kind: "varargs", element: this.element(depth + 1) };
          break;
        case "~":
          node = { kind: "kwargs", element: this.element(depth + 1) };
          break;
        default:
          this.pos = start;
          this.fail(")]}>".includes(ch) ? `expected a type, got '${ch}'` : `unknown type character '${ch}'`);
      }
    }
    if (text[this.pos] === "<") node = withAnnotation(node, this.annotation());
    return node;
  }

  private expect(ch: string, what: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}' ${what}, got ${this.describe()}`);
    this.pos++;
  }

  /** Reads `<…>` with balanced ()[]{}<> inside; returns the text between the outer brackets. */
  private annotation(): string {
    const text = this.text;
    const open = this.pos;
    const stack: string[] = [">"];
    this.pos++;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === "\0") this.fail("NUL inside an annotation");
      const closer = CLOSERS[c];
      if (closer !== undefined) stack.push(closer);
      else if (c === ">" || c === ")" || c === "]" || c === "}") {
        const want = stack.pop();
        if (c !== want) this.fail(`unbalanced '${c}' in annotation, expected '${want}'`);
        if (stack.length === 0) {
          this.pos++;
          return text.slice(open + 1, this.pos - 1);
        }
      }
      this.pos++;
    }
    return this.fail(`unterminated annotation opened at ${open}, expected '${stack[stack.length - 1]}'`);
  }
}

function withAnnotation(node: SigNode, annotation: string): SigNode {
  if (node.kind !== "tuple") return { ...node, annotation };
  const parts = annotation.split(",");
  const fieldNames = parts.slice(1);
  if (fieldNames.length === node.members.length && validFieldNames(fieldNames)) {
    return { kind: "tuple", members: node.members, name: parts[0], fieldNames, annotation };
  }
  return { kind: "tuple", members: node.members, annotation };
}

/** Field names must be distinct and safe as plain-object keys. */
function validFieldNames(names: string[]): boolean {
  if (names.includes("__proto__")) return false;
  return new Set(names).size === names.length;
}

export interface PrintOptions {
  /** Include `<…>` annotations (default true). */
  annotations?: boolean;
}

/** Prints a node back to signature text. */
export function printSignature(node: SigNode, options: PrintOptions = {}): string {
  const ann = options.annotations !== false;
  return print(node, ann);
}

function print(node: SigNode, ann: boolean): string {
  let out: string;
  switch (node.kind) {
    case "scalar":
      out = node.code;
      break;
    case "list":
      out = `[${print(node.element, ann)}]`;
      break;
    case "map":
      out = `{${print(node.key, ann)}${print(node.value, ann)}}`;
      break;
    case "tuple": {
      out = "(";
      for (const m of node.members) out += print(m, ann);
      out += ")";
      if (ann && node.annotation === undefined && node.fieldNames !== undefined) {
        out += `<${[node.name ?? "", ...node.fieldNames].join(",")}>`;
      }
      break;
    }
    case "optional":
      out = `+${print(node.element, ann)}`;
      break;
    case "varargs":
      out = `#${print(node.element, ann)}`;
      break;
    case "kwargs":
      out = `~${print(node.element, ann)}`;
      break;
  }
  if (ann && node.annotation !== undefined) out += `<${node.annotation}>`;
  return out;
}

/** Structural equality, ignoring annotations (and thus struct names). */
export function signatureEquals(a: string | SigNode, b: string | SigNode): boolean {
  return nodeEquals(toSigNode(a), toSigNode(b));
}

function nodeEquals(a: SigNode, b: SigNode): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "scalar":
      return b.kind === "scalar" && a.code === b.code;
    case "map":
      return b.kind === "map" && nodeEquals(a.key, b.key) && nodeEquals(a.value, b.value);
    case "tuple": {
      if (b.kind !== "tuple" || a.members.length !== b.members.length) return false;
      for (let i = 0; i < a.members.length; i++) if (!nodeEquals(a.members[i], b.members[i])) return false;
      return true;
    }
    default:
      return b.kind === a.kind && nodeEquals(a.element, (b as ListNode).element);
  }
}

export function isTupleSignature(sig: string | SigNode): boolean {
  return toSigNode(sig).kind === "tuple";
}

/** A tuple whose annotation names every field. */
export function isStructNode(
  node: SigNode,
): node is TupleNode & { name: string; fieldNames: readonly string[] } {
  return node.kind === "tuple" && node.fieldNames !== undefined;
}

const minSizes = new WeakMap<SigNode, number>();

/**
 * A lower bound of the encoded size of a value of this type, used to reject element counts
 * the remaining input cannot hold before allocating anything.
 */
export function minEncodedSize(node: SigNode): number {
  const known = minSizes.get(node);
  if (known !== undefined) return known;
  let n: number;
  switch (node.kind) {
    case "scalar":
      n = SCALAR_MIN_SIZE[node.code];
      break;
    case "list":
    case "map":
    case "varargs":
      n = 4;
      break;
    case "optional":
      n = 1;
      break;
    case "kwargs":
      n = 0;
      break;
    case "tuple":
      n = 0;
      for (const m of node.members) n += minEncodedSize(m);
      break;
  }
  minSizes.set(node, n);
  return n;
}

const SCALAR_MIN_SIZE: Record<ScalarCode, number> = {
  v: 0,
  _: 0,
  X: 0,
  b: 1,
  c: 1,
  C: 1,
  w: 2,
  W: 2,
  i: 4,
  I: 4,
  f: 4,
  l: 8,
  L: 8,
  d: 8,
  s: 4,
  r: 4,
  m: 4,
  // cached form: bool + u32 cache id, then serviceId + objectId
  o: 13,
};

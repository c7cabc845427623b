/**
 * The allocation budget of a decode (reader.ts VALUES_PER_BYTE, VALUE_ALLOWANCE): tiny hostile
 * payloads that describe huge values fail with ERR_BUDGET before anything big is allocated,
 * honest large payloads still decode, and whatever decodes holds at most
 * UNITS_PER_BYTE × bytes + UNIT_ALLOWANCE heap words.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import { WireError } from "../../src/wire/errors.js";
import { decodeMetaObject } from "../../src/wire/metaobject.js";
import { BudgetCost, decodeBudget, UNIT_ALLOWANCE, UNITS_PER_BYTE } from "../../src/wire/reader.js";
import { parseSignature, type SigNode } from "../../src/wire/signature.js";
import { Dynamic, Optional, Raw, Struct } from "../../src/wire/values.js";

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const str = (s: string): number[] => [...u32(Buffer.byteLength(s)), ...Buffer.from(s)];

function wireError(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error("expected a WireError");
}

/**
 * What a decoded value costs the heap, in 8-byte words, by a model independent of the decoder:
 * an Array is 4 words plus a slot per element, a Map 8 plus 3 per entry, a Struct 8 plus a slot
 * per field, a Dynamic or Optional 5; scalars cost what their wire bytes pay for (not counted).
 */
function heapWords(v: unknown): number {
  if (Array.isArray(v)) {
    let n = 4 + v.length;
    for (const x of v) n += heapWords(x);
    return n;
  }
  if (v instanceof Map) {
    let n = 8 + 3 * v.size;
    for (const [k, x] of v) n += heapWords(k) + heapWords(x);
    return n;
  }
  if (v instanceof Struct) {
    const fields = Object.values(v.fields);
    let n = 8 + fields.length;
    for (const x of fields) n += heapWords(x);
    return n;
  }
  if (v instanceof Dynamic) return v.signature === "" ? 0 : 5 + heapWords(v.value);
  if (v instanceof Optional) return 5 + (v.hasValue ? heapWords(v.value) : 0);
  return 0;
}

/** The JS values a decoded value is made of. */
function countValues(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + countValues(x), 0);
  if (v instanceof Map) {
    let n = 1;
    for (const [k, x] of v) n += countValues(k) + countValues(x);
    return n;
  }
  if (v instanceof Struct) return 1 + Object.values(v.fields).reduce((n: number, x) => n + countValues(x), 0);
  if (v instanceof Dynamic) return 1 + (v.signature === "" ? 0 : countValues(v.value));
  if (v instanceof Optional) return 1 + (v.hasValue ? countValues(v.value) : 0);
  return 1;
}

describe("hostile payloads a few bytes long fail with ERR_BUDGET", () => {
  const cases: [string, string, number[]][] = [
    ["[()] × 1,000,000 (the issue's bomb, 4 bytes)", "[()]", u32(1_000_000)],
    ["[v] × 4,294,967,295", "[v]", u32(0xffffffff)],
    ["[[()]]: 2 lists of 600 empty tuples", "[[()]]", [...u32(2), ...u32(600), ...u32(600)]],
    ["{()()} × 1,000,000 (a map of () keys and values)", "{()()}", u32(1_000_000)],
    ["m holding [()] × 1,000,000", "m", [...str("[()]"), ...u32(1_000_000)]],
    [
      "[m], each holding [()] × 900",
      "[m]",
      [...u32(3), ...[0, 1, 2].flatMap(() => [...str("[()]"), ...u32(900)])],
    ],
    [
      "m holding a tuple of 200 () fields × 100,000",
      "m",
      [...str(`[(${"()".repeat(200)})]`), ...u32(100_000)],
    ],
    [
      "m holding [(((…(b)…)))] 60 deep × 1,000 one-byte elements",
      "m",
      [...str(`[${"(".repeat(60)}b${")".repeat(60)}]`), ...u32(1000), ...new Array(1000).fill(1)],
    ],
    ["m holding [(vv)] × 1,000,000", "m", [...str("[(vv)]"), ...u32(1_000_000)]],
  ];
  for (const [what, sig, bytes] of cases) {
    it(what, () => {
      const e = wireError(() => decode(sig, Uint8Array.from(bytes)));
      expect(e.code).toBe("QI_ERR_WIRE_BUDGET");
      expect(e.message).toMatch(/allocation budget/);
    });
  }

  it("a dynamic signature nested 100,000 deep fails at depth 64, without deep recursion", () => {
    const pairs: [string, string][] = [
      ["(", ")"],
      ["[", "]"],
      ["{i", "}"],
      ["+", ""],
    ];
    for (const [open, close] of pairs) {
      const sig = `${open.repeat(100_000)}i${close.repeat(100_000)}`;
      const e = wireError(() => decode("m", Uint8Array.from(str(sig))));
      expect(e.code).toBe("QI_ERR_WIRE_DEPTH_EXCEEDED");
    }
  });

  it("dynamics within dynamics stop at the depth bound", () => {
    const parts: number[] = [];
    for (let i = 0; i < 10_000; i++) parts.push(...str("m"));
    expect(wireError(() => decode("m", Uint8Array.from(parts))).code).toBe("QI_ERR_WIRE_DEPTH_EXCEEDED");
  });

  it("a MetaObject announcing a million methods in a few bytes is refused", () => {
    const e = wireError(() => decodeMetaObject(Uint8Array.from([...u32(1_000_000), 0, 0, 0, 0])));
    expect(e.code).toBe("QI_ERR_WIRE_COUNT_TOO_LARGE");
  });

  it("counts still have to fit the remaining bytes (empty strings cost their 4 bytes)", () => {
    expect(wireError(() => decode("[s]", Uint8Array.from(u32(1_000_000)))).code).toBe(
      "QI_ERR_WIRE_COUNT_TOO_LARGE",
    );
  });
});

describe("honest payloads decode as before", () => {
  it("a few empty containers in a small payload fit the allowance", () => {
    expect(decode("[()]", Uint8Array.from(u32(500)))).toHaveLength(500);
    expect(decode("m", Uint8Array.from([...str("[v]"), ...u32(500)]))).toBeInstanceOf(Dynamic);
  });

  it("1 MiB raw, a camera frame, a 50 MB string and a million ints", () => {
    const mib = new Uint8Array(1 << 20).fill(7);
    expect((decode("r", encode("r", new Raw(mib))) as Raw).bytes).toHaveLength(1 << 20);
    const frame = new Uint8Array(640 * 480 * 3);
    const image = decode("(iir)", encode("(iir)", [640, 480, new Raw(frame)])) as unknown[];
    expect((image[2] as Raw).bytes).toHaveLength(frame.length);
    const big = "x".repeat(50_000_000);
    expect((decode("s", encode("s", big)) as string).length).toBe(50_000_000);
    const ints = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(decode("[i]", encode("[i]", ints))).toEqual(ints);
    const bools = new Array(100_000).fill(true);
    expect(
      decode(
        "[(bb)]",
        encode(
          "[(bb)]",
          bools.map((b) => [b, !b]),
        ),
      ),
    ).toHaveLength(100_000);
  });

  it("the budget is UNITS_PER_BYTE per byte plus UNIT_ALLOWANCE", () => {
    expect(decodeBudget(100)).toBe(100 * UNITS_PER_BYTE + UNIT_ALLOWANCE);
    // Exactly at the bound: a list (array + a slot per element) of n empty tuples (an array each).
    const n = Math.floor((decodeBudget(4) - BudgetCost.array) / (BudgetCost.slot + BudgetCost.array));
    expect(decode("[()]", Uint8Array.from(u32(n)))).toHaveLength(n);
    expect(wireError(() => decode("[()]", Uint8Array.from(u32(n + 1)))).code).toBe("QI_ERR_WIRE_BUDGET");
  });

  it("honest structures up to 8 heap words per byte: pairs of bools, nested pairs, structs", () => {
    const pairs = Array.from({ length: 100_000 }, (_, i) => [i % 2 === 0, true]);
    expect(decode("[(bb)]", encode("[(bb)]", pairs))).toHaveLength(100_000);
    const nested = Array.from({ length: 100_000 }, () => [true, [false]]);
    expect(decode("[(b(b))]", encode("[(b(b))]", nested))).toHaveLength(100_000);
    const structs = Array.from({ length: 100_000 }, () => new Struct("P", { x: 1, y: 2 }));
    expect(decode("[(cc)<P,x,y>]", encode("[(cc)<P,x,y>]", structs))).toHaveLength(100_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: a successful decode holds at most VALUES_PER_BYTE × bytes + VALUE_ALLOWANCE values.

const LEAVES = ["b", "c", "w", "i", "l", "d", "s", "r", "v", "()", "(v)", "m"];

function sigText(depth: number): fc.Arbitrary<string> {
  const leaf = fc.constantFrom(...LEAVES);
  if (depth <= 0) return leaf;
  const inner = sigText(depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 3, arbitrary: inner.map((t) => `[${t}]`) },
    { weight: 1, arbitrary: inner.map((t) => `+${t}`) },
    { weight: 1, arbitrary: fc.tuple(inner, inner).map(([k, v]) => `{${k}${v}}`) },
    { weight: 2, arbitrary: fc.array(inner, { maxLength: 6 }).map((m) => `(${m.join("")})`) },
  );
}

/** Signatures an `m` in a generated payload carries (zero-size and nested ones included). */
const DYNAMIC_SIGNATURES = ["i", "[()]", "[v]", "((((()))))", "[[()]]", "{()()}", "[(bv)]", "s", ""];

/** Writes a well-formed payload for `node`, choosing counts (large ones too) with `next`. */
function payloadFor(node: SigNode, next: () => number, out: number[], limit: number): void {
  const count = (): number => {
    if (out.length > limit) return 0;
    const choices = [0, 1, 2, 7, 64, 900, 5000, 40_000];
    return choices[Math.floor(next() * choices.length)];
  };
  switch (node.kind) {
    case "scalar": {
      const size: Record<string, number> = { b: 1, c: 1, w: 2, i: 4, l: 8, d: 8, v: 0 };
      if (node.code in size) {
        for (let i = 0; i < size[node.code]; i++) out.push(Math.floor(next() * 2));
      } else if (node.code === "s" || node.code === "r") {
        const n = Math.floor(next() * 3);
        out.push(...u32(n));
        for (let i = 0; i < n; i++) out.push(0x61);
      } else if (node.code === "m") {
        const sig = DYNAMIC_SIGNATURES[Math.floor(next() * DYNAMIC_SIGNATURES.length)];
        out.push(...str(sig));
        if (sig !== "") payloadFor(parseSignature(sig), next, out, limit);
      }
      return;
    }
    case "list": {
      const n = count();
      out.push(...u32(n));
      for (let i = 0; i < n && out.length <= limit * 2; i++) payloadFor(node.element, next, out, limit);
      return;
    }
    case "map": {
      const n = count();
      out.push(...u32(n));
      for (let i = 0; i < n && out.length <= limit * 2; i++) {
        payloadFor(node.key, next, out, limit);
        payloadFor(node.value, next, out, limit);
      }
      return;
    }
    case "tuple":
      for (const m of node.members) payloadFor(m, next, out, limit);
      return;
    case "optional": {
      const present = next() < 0.7;
      out.push(present ? 1 : 0);
      if (present) payloadFor(node.element, next, out, limit);
      return;
    }
    default:
      return;
  }
}

const CUT_SHORT_OR_BUDGET = new Set([
  "QI_ERR_WIRE_BUDGET",
  "QI_ERR_WIRE_TRUNCATED",
  "QI_ERR_WIRE_COUNT_TOO_LARGE",
  "QI_ERR_WIRE_TRAILING_BYTES",
]);

describe("property: what a decode holds ≤ UNITS_PER_BYTE × bytes + UNIT_ALLOWANCE heap words", () => {
  it("for random signatures and payloads, a decode succeeds within the bound or fails with ERR_BUDGET", () => {
    let refused = 0;
    let decoded = 0;
    fc.assert(
      fc.property(sigText(3), fc.integer(), (text, seed) => {
        let s = seed >>> 0 || 1;
        const next = () => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return s / 2 ** 32;
        };
        const out: number[] = [];
        payloadFor(parseSignature(text), next, out, 4_000);
        const bytes = Uint8Array.from(out);
        let value: unknown;
        try {
          value = decode(text, bytes);
        } catch (e) {
          // A payload cut short by the generator's size limit is truncated; the rest must be the budget.
          if (e instanceof WireError && CUT_SHORT_OR_BUDGET.has(e.code)) {
            if (e.code === "QI_ERR_WIRE_BUDGET") refused++;
            return;
          }
          throw e;
        }
        decoded++;
        const bound = UNITS_PER_BYTE * bytes.length + UNIT_ALLOWANCE;
        expect(heapWords(value)).toBeLessThanOrEqual(bound);
        expect(countValues(value)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 300, seed: 10 },
    );
    // The generator reaches both sides of the bound.
    expect(refused).toBeGreaterThan(0);
    expect(decoded).toBeGreaterThan(0);
  });
});

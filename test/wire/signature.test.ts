import { describe, expect, it } from "vitest";
import { WireError } from "../../src/wire/errors.js";
import { META_OBJECT_SIGNATURE } from "../../src/wire/metaobject.js";
import {
  isStructNode,
  isTupleSignature,
  minEncodedSize,
  parseSignature,
  printSignature,
  type SigNode,
  signatureEquals,
} from "../../src/wire/signature.js";

function parseError(text: string): WireError {
  try {
    parseSignature(text);
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    return e as WireError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("parseSignature", () => {
  it("parses every scalar type character", () => {
    for (const c of "vbcCwWiIlLfdsrmoX_") {
      expect(parseSignature(c)).toEqual({ kind: "scalar", code: c });
    }
  });

  it("parses containers", () => {
    const i: SigNode = { kind: "scalar", code: "i" };
    const s: SigNode = { kind: "scalar", code: "s" };
    expect(parseSignature("[i]")).toEqual({ kind: "list", element: i });
    expect(parseSignature("{si}")).toEqual({ kind: "map", key: s, value: i });
    expect(parseSignature("(is)")).toEqual({ kind: "tuple", members: [i, s] });
    expect(parseSignature("()")).toEqual({ kind: "tuple", members: [] });
    expect(parseSignature("+i")).toEqual({ kind: "optional", element: i });
    expect(parseSignature("#s")).toEqual({ kind: "varargs", element: s });
    expect(parseSignature("~m")).toEqual({ kind: "kwargs", element: { kind: "scalar", code: "m" } });
  });

  it("parses deep nesting", () => {
    const text = "[{s(i[+m]{I#d})}]";
    const node = parseSignature(text);
    expect(printSignature(node)).toBe(text);
    expect(node.kind).toBe("list");
  });

  it("parses struct annotations into name and field names", () => {
    const node = parseSignature("(is)<Point,x,label>");
    expect(node).toMatchObject({
      kind: "tuple",
      name: "Point",
      fieldNames: ["x", "label"],
      annotation: "Point,x,label",
    });
    expect(isStructNode(node)).toBe(true);
  });

  it("keeps annotations whose field count does not match, without struct names", () => {
    const node = parseSignature("(is)<Point,x>");
    expect(node).toEqual({
      kind: "tuple",
      members: [
        { kind: "scalar", code: "i" },
        { kind: "scalar", code: "s" },
      ],
      annotation: "Point,x",
    });
    expect(isStructNode(node)).toBe(false);
  });

  it("does not treat duplicate or __proto__ field names as a struct", () => {
    expect(isStructNode(parseSignature("(ii)<P,a,a>"))).toBe(false);
    expect(isStructNode(parseSignature("(i)<P,__proto__>"))).toBe(false);
  });

  it("accepts annotations on any element, with nested balanced brackets", () => {
    expect(parseSignature("i<count>")).toEqual({ kind: "scalar", code: "i", annotation: "count" });
    const n = parseSignature("[s<a(b)[c]{d}<e>>]<list>");
    expect(n).toEqual({
      kind: "list",
      element: { kind: "scalar", code: "s", annotation: "a(b)[c]{d}<e>" },
      annotation: "list",
    });
  });

  it("parses the MetaObject signature and prints it back verbatim", () => {
    const node = parseSignature(META_OBJECT_SIGNATURE);
    expect(printSignature(node)).toBe(META_OBJECT_SIGNATURE);
    expect(node).toMatchObject({
      name: "MetaObject",
      fieldNames: ["methods", "signals", "properties", "description"],
    });
  });

  it("caches parsed nodes", () => {
    expect(parseSignature("(iis)<A,a,b,c>")).toBe(parseSignature("(iis)<A,a,b,c>"));
  });

  it("parses the long reserved-member signatures", () => {
    const stats =
      "{I(I(fff)<MinMaxSum,minValue,maxValue,cumulatedValue>(fff)<MinMaxSum,minValue,maxValue,cumulatedValue>(fff)<MinMaxSum,minValue,maxValue,cumulatedValue>)<MethodStatistics,count,wall,user,system>}";
    expect(printSignature(parseSignature(stats))).toBe(stats);
    const trace =
      "((IiIm(ll)<timeval,tv_sec,tv_usec>llII)<EventTrace,id,kind,slotId,arguments,timestamp,userUsTime,systemUsTime,callerContext,calleeContext>)";
    expect(printSignature(parseSignature(trace))).toBe(trace);
  });
});

describe("parseSignature errors", () => {
  const cases: [string, number, RegExp][] = [
    ["", 0, /expected a type/],
    ["[i", 2, /expected '\]'/],
    ["{i}", 2, /map value type/],
    ["{}", 1, /map key type/],
    ["(i", 2, /expected '\)'/],
    ["i<abc", 5, /unterminated annotation/],
    ["Q", 0, /unknown type character 'Q'/],
    ["ii", 1, /expected end of signature/],
    ["[i)", 2, /expected '\]'/],
    ["(i]", 2, /expected '\)'/],
    ["+", 1, /expected a type/],
    ["*", 0, /unknown type character/],
    ["i<a)>", 3, /unbalanced '\)'/],
    ["i<a\0>", 3, /NUL/],
    ["(ii)<A,b,c>>", 11, /expected end/],
    ["[", 1, /expected a type/],
    ["{ii", 3, /expected '\}'/],
  ];
  for (const [text, offset, message] of cases) {
    it(`rejects ${JSON.stringify(text)} at offset ${offset}`, () => {
      const e = parseError(text);
      expect(e.code).toBe("QI_ERR_WIRE_SIGNATURE_INVALID");
      expect(e.offset).toBe(offset);
      expect(e.message).toMatch(message);
    });
  }

  it("bounds the nesting depth", () => {
    const deep = `${"[".repeat(100)}i${"]".repeat(100)}`;
    const e = parseError(deep);
    expect(e.code).toBe("QI_ERR_WIRE_DEPTH_EXCEEDED");
    expect(e.offset).toBe(64);
    const ok = `${"[".repeat(64)}i${"]".repeat(64)}`;
    expect(printSignature(parseSignature(ok))).toBe(ok);
  });
});

describe("printSignature / signatureEquals / helpers", () => {
  it("prints with or without annotations", () => {
    const text = "(i[s<x>])<S,a,b>";
    expect(printSignature(parseSignature(text))).toBe(text);
    expect(printSignature(parseSignature(text), { annotations: false })).toBe("(i[s])");
  });

  it("prints struct names of programmatic nodes", () => {
    const node: SigNode = {
      kind: "tuple",
      members: [{ kind: "scalar", code: "i" }],
      name: "P",
      fieldNames: ["x"],
    };
    expect(printSignature(node)).toBe("(i)<P,x>");
  });

  it("ignores annotations for equality", () => {
    expect(signatureEquals("(is)<A,a,b>", "(is)")).toBe(true);
    expect(signatureEquals("(is)<A,a,b>", "(is)<B,c,d>")).toBe(true);
    expect(signatureEquals("[i<x>]", "[i]")).toBe(true);
    expect(signatureEquals("(is)", "(si)")).toBe(false);
    expect(signatureEquals("[i]", "#i")).toBe(false);
    expect(signatureEquals("{si}", "{sI}")).toBe(false);
    expect(signatureEquals("(i)", "(ii)")).toBe(false);
    expect(signatureEquals("+i", "+i")).toBe(true);
  });

  it("isTupleSignature", () => {
    expect(isTupleSignature("(is)")).toBe(true);
    expect(isTupleSignature("()")).toBe(true);
    expect(isTupleSignature("m")).toBe(false);
    expect(isTupleSignature(parseSignature("[i]"))).toBe(false);
  });

  it("minEncodedSize", () => {
    expect(minEncodedSize(parseSignature("(bwidsm)"))).toBe(1 + 2 + 4 + 8 + 4 + 4);
    expect(minEncodedSize(parseSignature("(v()_)"))).toBe(0);
    expect(minEncodedSize(parseSignature("[i]"))).toBe(4);
    expect(minEncodedSize(parseSignature("+l"))).toBe(1);
  });
});

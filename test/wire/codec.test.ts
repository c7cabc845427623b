import { describe, expect, it } from "vitest";
import { type CodecContext, decode, decodeFrom, encode, encodeInto } from "../../src/wire/codec.js";
import { convertValue, defaultValue } from "../../src/wire/convert.js";
import { WireError } from "../../src/wire/errors.js";
import { inferSignature } from "../../src/wire/infer.js";
import type { MetaObject } from "../../src/wire/metaobject-types.js";
import { emptyMetaObject, encodeMetaObject, MetaObjectSendCache } from "../../src/wire/metaobject.js";
import { Reader } from "../../src/wire/reader.js";
import { parseSignature } from "../../src/wire/signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "../../src/wire/values.js";
import { Writer } from "../../src/wire/writer.js";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

function wireError(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    return e as WireError;
  }
  throw new Error("expected a WireError");
}

describe("scalars", () => {
  const cases: [string, unknown, string][] = [
    ["b", false, "00"],
    ["c", -128, "80"],
    ["C", 255, "ff"],
    ["w", -2, "fe ff"],
    ["W", 0xffff, "ff ff"],
    ["i", -1, "ff ff ff ff"],
    ["I", 0xfffffffe, "fe ff ff ff"],
    ["l", -(2n ** 63n), "00 00 00 00 00 00 00 80"],
    ["L", 258n, "02 01 00 00 00 00 00 00"],
    ["f", -2.5, "00 00 20 c0"],
    ["d", Number.POSITIVE_INFINITY, "00 00 00 00 00 00 f0 7f"],
    ["s", "", "00 00 00 00"],
    ["s", "é€😀", "09 00 00 00 c3 a9 e2 82 ac f0 9f 98 80"],
    ["v", undefined, ""],
  ];
  for (const [sig, value, h] of cases) {
    it(`${sig} ${String(value)}`, () => {
      expect(hex(encode(sig, value))).toBe(h);
      expect(decode(sig, Uint8Array.from(h ? h.split(" ").map((x) => Number.parseInt(x, 16)) : []))).toEqual(
        value,
      );
    });
  }

  it("accepts safe-integer numbers for l/L and bigints for small ints", () => {
    expect(hex(encode("l", -1))).toBe("ff ff ff ff ff ff ff ff");
    expect(hex(encode("L", 1))).toBe("01 00 00 00 00 00 00 00");
    expect(hex(encode("i", 5n))).toBe("05 00 00 00");
  });

  it("decodes any non-zero bool byte as true", () => {
    expect(decode("b", bytes(7))).toBe(true);
  });

  it("keeps a BOM and long non-ASCII strings", () => {
    const s = `\uFEFF${"ü".repeat(100)}`;
    expect(decode("s", encode("s", s))).toBe(s);
    const long = "x".repeat(1000);
    expect(decode("s", encode("s", long))).toBe(long);
  });

  it("encodes Raw and Uint8Array for r; decoded Raw is a view of the input", () => {
    expect(hex(encode("r", bytes(9, 8)))).toBe("02 00 00 00 09 08");
    const input = bytes(2, 0, 0, 0, 9, 8);
    const raw = decode("r", input) as Raw;
    expect(raw).toBeInstanceOf(Raw);
    expect(raw.bytes.buffer).toBe(input.buffer);
    expect(raw.bytes.byteOffset).toBe(4);
  });
});

describe("strings that are not UTF-8", () => {
  const bad = bytes(3, 0, 0, 0, 0xff, 0x41, 0xc3);

  it("decode to a ByteString that re-encodes unchanged", () => {
    const v = decode("s", bad);
    expect(v).toBeInstanceOf(ByteString);
    expect(hex((v as ByteString).bytes)).toBe("ff 41 c3");
    expect(hex(encode("s", v))).toBe(hex(bad));
  });

  it("throw ERR_BAD_UTF8 with strictUtf8", () => {
    const e = wireError(() => decode("(is)", bytes(1, 0, 0, 0, ...bad), { strictUtf8: true }));
    expect(e.code).toBe("QI_ERR_WIRE_BAD_UTF8");
    expect(e.offset).toBe(8);
  });

  it("reject surrogate code points encoded in UTF-8 (CESU) as text", () => {
    expect(decode("s", bytes(3, 0, 0, 0, 0xed, 0xa0, 0x80))).toBeInstanceOf(ByteString);
  });
});

describe("containers", () => {
  it("lists and varargs", () => {
    expect(hex(encode("[b]", [true, false]))).toBe("02 00 00 00 01 00");
    expect(hex(encode("#b", [true]))).toBe("01 00 00 00 01");
    expect(decode("#b", bytes(1, 0, 0, 0, 1))).toEqual([true]);
    expect(decode("[v]", bytes(3, 0, 0, 0))).toEqual([undefined, undefined, undefined]);
  });

  it("maps from Map or plain object, keys sorted like std::map", () => {
    const m = new Map([
      ["b", 2],
      ["a", 1],
    ]);
    const expected = "02 00 00 00 01 00 00 00 61 01 01 00 00 00 62 02";
    expect(hex(encode("{sC}", m))).toBe(expected);
    expect(hex(encode("{sC}", { b: 2, a: 1 }))).toBe(expected);
    expect(
      hex(
        encode(
          "{iC}",
          new Map([
            [3, 1],
            [-1, 2],
          ]),
        ),
      ),
    ).toBe("02 00 00 00 ff ff ff ff 02 03 00 00 00 01");
    // bytewise order: "Z" < "_" < "a"; supplementary plane after U+FFFD
    const keys = [
      ...(decode("{sb}", encode("{sb}", { a: true, _: true, Z: true })) as Map<string, boolean>).keys(),
    ];
    expect(keys).toEqual(["Z", "_", "a"]);
    const uni = [
      ...(decode("{sb}", encode("{sb}", { "😀": true, "\uFFFD": true })) as Map<string, boolean>).keys(),
    ];
    expect(uni).toEqual(["\uFFFD", "😀"]);
  });

  it("tuples from arrays; structs from Struct, plain object or array", () => {
    const sig = "(is)<P,x,name>";
    const h = "01 00 00 00 01 00 00 00 61";
    expect(hex(encode(sig, new Struct("P", { x: 1, name: "a" })))).toBe(h);
    expect(hex(encode(sig, { name: "a", x: 1 }))).toBe(h);
    expect(hex(encode(sig, [1, "a"]))).toBe(h);
    expect(hex(encode("(is)", new Struct("P", { x: 1, name: "a" })))).toBe(h);
    expect(decode(sig, encode(sig, [1, "a"]))).toEqual(new Struct("P", { x: 1, name: "a" }));
    expect(encode("()", [])).toHaveLength(0);
    expect(decode("()", new Uint8Array(0))).toEqual([]);
  });

  it("structs: missing fields get defaults, extra fields are dropped", () => {
    const sig = "(is[i])<P,x,name,list>";
    expect(decode(sig, encode(sig, { x: 3, extra: true }))).toEqual(
      new Struct("P", { x: 3, name: "", list: [] }),
    );
  });

  it("optionals", () => {
    expect(hex(encode("+s", Optional.of("a")))).toBe("01 01 00 00 00 61");
    expect(hex(encode("+s", "a"))).toBe("01 01 00 00 00 61");
    expect(hex(encode("+s", undefined))).toBe("00");
    expect(hex(encode("+s", Optional.NONE))).toBe("00");
    expect(decode("+s", bytes(0))).toBe(Optional.NONE);
    expect(decode("+(ii)", bytes(1, 1, 0, 0, 0, 2, 0, 0, 0))).toEqual(Optional.of([1, 2]));
  });

  it("_ only in empty containers", () => {
    expect(decode("[_]", bytes(0, 0, 0, 0))).toEqual([]);
    expect(decode("{__}", bytes(0, 0, 0, 0))).toEqual(new Map());
    expect(hex(encode("m", new Dynamic("[_]", [])))).toBe("03 00 00 00 5b 5f 5d 00 00 00 00");
    expect(wireError(() => decode("[_]", bytes(1, 0, 0, 0))).code).toBe("QI_ERR_WIRE_UNSERIALIZABLE");
    expect(wireError(() => encode("[_]", [1])).code).toBe("QI_ERR_WIRE_UNSERIALIZABLE");
  });
});

describe("dynamics", () => {
  it("encodes plain values with an inferred signature", () => {
    expect(hex(encode("m", 42))).toBe("01 00 00 00 69 2a 00 00 00");
    expect(hex(encode("m", null))).toBe("01 00 00 00 76");
    expect(decode("m", encode("m", [1, "a"]))).toEqual(
      new Dynamic("[m]", [new Dynamic("i", 1), new Dynamic("s", "a")]),
    );
    expect(decode("m", encode("m", { a: [1, 2] }))).toEqual(new Dynamic("{s[i]}", new Map([["a", [1, 2]]])));
  });

  it("nested dynamics and struct signatures inside", () => {
    const v = new Dynamic("m", new Dynamic("(i)<S,a>", new Struct("S", { a: 1 })));
    expect(decode("m", encode("m", v))).toEqual(v);
  });

  it("bad signatures inside a dynamic keep their offset in the input", () => {
    // [i] count 1, then dynamic "[i" → breaks at char 2 of the signature at offset 8.
    const input = bytes(1, 0, 0, 0, 2, 0, 0, 0, 0x5b, 0x69);
    const e = wireError(() => decode("[m]", input));
    expect(e.code).toBe("QI_ERR_WIRE_SIGNATURE_INVALID");
    expect(e.offset).toBe(10);
    expect(e.message).toMatch(/in dynamic/);
  });

  it("rejects X inside a dynamic", () => {
    expect(wireError(() => decode("m", bytes(1, 0, 0, 0, 0x58))).code).toBe("QI_ERR_WIRE_UNSERIALIZABLE");
    expect(wireError(() => decode("m", bytes(2, 0, 0, 0, 0x7e, 0x69))).code).toBe(
      "QI_ERR_WIRE_UNSERIALIZABLE",
    );
  });
});

describe("decode errors", () => {
  const cases: [string, number[], string, number][] = [
    ["i", [1, 2, 3], "QI_ERR_WIRE_TRUNCATED", 0],
    ["(ii)", [1, 0, 0, 0, 2, 0], "QI_ERR_WIRE_TRUNCATED", 4],
    ["s", [5, 0, 0, 0, 0x61], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["[i]", [...u32(0xffffffff), ...new Array(16).fill(0)], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["[i]", [2, 0, 0, 0, 1, 0, 0, 0], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["(b[s])", [1, 3, 0, 0, 0, 0, 0, 0, 0], "QI_ERR_WIRE_COUNT_TOO_LARGE", 1],
    ["{si}", [...u32(0x10000000), 0, 0, 0, 0], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["[v]", u32(0xffffffff), "QI_ERR_WIRE_BUDGET", 0],
    ["[()]", u32(2_000_000), "QI_ERR_WIRE_BUDGET", 0],
    ["[()]", u32(1_000_000), "QI_ERR_WIRE_BUDGET", 0],
    ["i", [1, 0, 0, 0, 9], "QI_ERR_WIRE_TRAILING_BYTES", 4],
    ["m", [1, 0, 0, 0, 0x51], "QI_ERR_WIRE_SIGNATURE_INVALID", 4],
    ["m", [...u32(100), 0x69], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["r", [...u32(0xffffffff)], "QI_ERR_WIRE_COUNT_TOO_LARGE", 0],
    ["X", [], "QI_ERR_WIRE_UNSERIALIZABLE", 0],
    ["~i", [], "QI_ERR_WIRE_UNSERIALIZABLE", 0],
  ];
  for (const [sig, input, code, offset] of cases) {
    it(`${sig} ${hex(Uint8Array.from(input)).slice(0, 30)} → ${code} at ${offset}`, () => {
      const e = wireError(() => decode(sig, Uint8Array.from(input)));
      expect(e.code).toBe(code);
      expect(e.offset).toBe(offset);
    });
  }

  it("bounds nesting depth of values (dynamics within dynamics)", () => {
    // m containing m containing ... 100 times, then "v"
    const parts: number[] = [];
    for (let i = 0; i < 100; i++) parts.push(1, 0, 0, 0, 0x6d);
    parts.push(1, 0, 0, 0, 0x76);
    const e = wireError(() => decode("m", Uint8Array.from(parts)));
    expect(e.code).toBe("QI_ERR_WIRE_DEPTH_EXCEEDED");
    expect(e.offset).toBe(64 * 5);
    expect(decode("m", Uint8Array.from(parts), { maxDepth: 200 })).toBeInstanceOf(Dynamic);
    expect(wireError(() => decode("[[i]]", bytes(1, 0, 0, 0, 0, 0, 0, 0), { maxDepth: 1 })).code).toBe(
      "QI_ERR_WIRE_DEPTH_EXCEEDED",
    );
  });

  it("shares one allocation budget across a message", () => {
    const input = Uint8Array.from([2, 0, 0, 0, ...u32(3000), ...u32(3000)]);
    expect(wireError(() => decode("[[v]]", input)).code).toBe("QI_ERR_WIRE_BUDGET");
    const ok = Uint8Array.from([2, 0, 0, 0, ...u32(3), ...u32(4)]);
    expect((decode("[[v]]", ok) as unknown[][]).map((l) => l.length)).toEqual([3, 4]);
  });
});

describe("encode errors", () => {
  const SI = "(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>";

  it("reports the path of a mismatched value", () => {
    const si = {
      name: "a",
      serviceId: 1,
      machineId: "m",
      processId: 2,
      endpoints: ["x", 7],
      sessionId: "",
      objectUid: "",
    };
    const e = wireError(() => encode(`(i${SI})`, [1, si]));
    expect(e.code).toBe("QI_ERR_WIRE_VALUE_MISMATCH");
    expect(e.message).toMatch(/^arg\[1\]\.endpoints\[1\]: expected a string, got number/);
  });

  it("paths through maps and custom roots", () => {
    const e = wireError(() => encode("{s[i]}", { a: [1], b: [1, "x"] }, { pathRoot: "ret" }));
    expect(e.message).toMatch(/^ret\["b"\]\[1\]:/);
  });

  const cases: [string, unknown, string][] = [
    ["b", 1, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["c", 128, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["C", -1, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["i", 1.5, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["I", 2 ** 32, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["l", 2 ** 60, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["L", -1n, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["l", 2n ** 63n, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["f", "1", "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["s", 1, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["r", "x", "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["[i]", { length: 1 }, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["{is}", { 1: "a" }, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["(ii)", [1], "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["(ii)", "ab", "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["o", {}, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["v", 0, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["X", 0, "QI_ERR_WIRE_UNSERIALIZABLE"],
    ["~i", [], "QI_ERR_WIRE_UNSERIALIZABLE"],
    ["m", () => 1, "QI_ERR_WIRE_VALUE_MISMATCH"],
    ["m", new Dynamic("Q", 1), "QI_ERR_WIRE_SIGNATURE_INVALID"],
  ];
  for (const [sig, value, code] of cases) {
    it(`${sig} ← ${typeof value} → ${code}`, () => {
      expect(wireError(() => encode(sig, value)).code).toBe(code);
    });
  }

  it("depth-limits cyclic values", () => {
    const a: unknown[] = [];
    a.push(a);
    expect(wireError(() => encode("m", a)).code).toBe("QI_ERR_WIRE_DEPTH_EXCEEDED");
  });

  it("encodeInto leaves the writer unchanged on error", () => {
    const w = new Writer();
    w.u8(7);
    expect(() => encodeInto(w, parseSignature("(ii)"), [1, "x"])).toThrow(WireError);
    expect(hex(w.finish())).toBe("07");
  });
});

describe("objects", () => {
  const mo: MetaObject = {
    ...emptyMetaObject(),
    methods: new Map([
      [
        100,
        {
          uid: 100,
          returnSignature: "i",
          name: "add",
          parametersSignature: "(ii)",
          description: "",
          parameters: [{ name: "a", description: "first" }],
          returnDescription: "",
        },
      ],
    ]),
    description: "calc",
  };
  const uid = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
  const moBytes = encodeMetaObject(mo);

  it("plain form: MetaObject, serviceId, objectId", () => {
    const ref = new ObjectRef(mo, 12, 3, undefined);
    const out = encode("o", ref);
    expect(hex(out)).toBe(hex(Uint8Array.from([...moBytes, 12, 0, 0, 0, 3, 0, 0, 0])));
    expect(decode("o", out)).toEqual(ref);
  });

  it("null object is 16 zero bytes + ids", () => {
    const out = encode("o", new ObjectRef(emptyMetaObject(), 5, 0, undefined));
    expect(hex(out)).toBe(hex(Uint8Array.from([...new Array(16).fill(0), 5, 0, 0, 0, 0, 0, 0, 0])));
    expect((decode("o", out) as ObjectRef).isNull).toBe(true);
  });

  it("ObjectPtrUID appends 20 raw bytes", () => {
    const ctx: CodecContext = { objectUid: true };
    const out = encode("o", new ObjectRef(mo, 12, 3, uid), ctx);
    expect(out.length).toBe(moBytes.length + 8 + 20);
    expect(hex(out.subarray(out.length - 20))).toBe(hex(uid));
    const back = decode("o", out, ctx) as ObjectRef;
    expect(back.uid).toEqual(uid);
    expect(back.uid!.buffer).not.toBe(out.buffer);
    // missing uid → 20 zero bytes
    const z = encode("o", new ObjectRef(mo, 1, 1, undefined), ctx);
    expect(hex(z.subarray(z.length - 20))).toBe(hex(new Uint8Array(20)));
    expect(wireError(() => decode("o", z.subarray(0, z.length - 1), ctx)).code).toBe("QI_ERR_WIRE_TRUNCATED");
  });

  it("MetaObject cache: full MetaObject the first time, then the id only", () => {
    const send = new MetaObjectSendCache();
    const receive = new Map<number, MetaObject>();
    const tx: CodecContext = { metaObjectCache: { send } };
    const rx: CodecContext = { metaObjectCache: { receive } };
    const first = encode("o", new ObjectRef(mo, 12, 3, undefined), tx);
    expect(hex(first)).toBe(hex(Uint8Array.from([1, ...moBytes, 1, 0, 0, 0, 12, 0, 0, 0, 3, 0, 0, 0])));
    // an identical (but distinct) MetaObject reuses the id
    const copy: MetaObject = { ...mo, methods: new Map(mo.methods) };
    const second = encode("o", new ObjectRef(copy, 12, 4, undefined), tx);
    expect(hex(second)).toBe("00 01 00 00 00 0c 00 00 00 04 00 00 00");
    const other = encode("o", new ObjectRef(emptyMetaObject(), 1, 1, undefined), tx);
    expect(other[0]).toBe(1);
    expect(hex(other.subarray(17, 21))).toBe("02 00 00 00");

    expect(decode("o", first, rx)).toEqual(new ObjectRef(mo, 12, 3, undefined));
    expect(receive.get(1)).toEqual(mo);
    expect(decode("o", second, rx)).toEqual(new ObjectRef(mo, 12, 4, undefined));
    const unknown = bytes(0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0);
    const e = wireError(() => decode("o", unknown, rx));
    expect(e.code).toBe("QI_ERR_WIRE_BAD_REFERENCE");
    expect(e.offset).toBe(1);
    expect(
      wireError(() => encode("o", new ObjectRef(mo, 1, 1, undefined), { metaObjectCache: {} })).code,
    ).toBe("QI_ERR_WIRE_UNSERIALIZABLE");
  });

  it("export/import hooks", () => {
    const service = { name: "svc" };
    const ctx: CodecContext = {
      exportObject: (v) => {
        expect(v).toBe(service);
        return new ObjectRef(mo, 7, 8, undefined);
      },
      importObject: (ref) => ({ proxy: ref.objectId }),
    };
    const out = encode("o", service, ctx);
    expect(decode("o", out, ctx)).toEqual({ proxy: 8 });
    // inside a dynamic, unknown class instances infer as o when exportObject is set
    class Svc {}
    const ctx2: CodecContext = { exportObject: () => new ObjectRef(mo, 7, 9, undefined) };
    expect((decode("m", encode("m", new Svc(), ctx2)) as Dynamic).signature).toBe("o");
    expect(wireError(() => encode("m", new Svc())).code).toBe("QI_ERR_WIRE_VALUE_MISMATCH");
  });
});

describe("decodeFrom", () => {
  it("reads consecutive values", () => {
    const r = new Reader(Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0x61, 9]));
    expect(decodeFrom(r, parseSignature("i"))).toBe(1);
    expect(decodeFrom(r, parseSignature("s"))).toBe("a");
    expect(r.remaining).toBe(1);
  });
});

describe("inferSignature", () => {
  const cases: [unknown, string][] = [
    [true, "b"],
    [1, "i"],
    [-(2 ** 31), "i"],
    [2 ** 31, "d"],
    [1.5, "d"],
    [1n, "l"],
    ["x", "s"],
    [new ByteString(bytes(0xff)), "s"],
    [bytes(1), "r"],
    [new Raw(bytes(1)), "r"],
    [[], "[m]"],
    [[1, 2], "[i]"],
    [[1, "a"], "[m]"],
    [[[1], [2]], "[[i]]"],
    [{}, "{sm}"],
    [{ a: 1, b: 2 }, "{si}"],
    [{ a: 1, b: "x" }, "{sm}"],
    [new Map([[1, "a"]]), "{is}"],
    [new Map(), "{mm}"],
    [new Dynamic("i", 1), "m"],
    [new Struct("P", { x: 1, y: "a" }), "(is)<P,x,y>"],
    [Optional.of(1), "+i"],
    [Optional.NONE, "+m"],
    [new ObjectRef(emptyMetaObject(), 1, 1, undefined), "o"],
    [null, "v"],
    [undefined, "v"],
  ];
  for (const [value, sig] of cases) {
    it(`${sig}`, () => {
      expect(inferSignature(value)).toBe(sig);
      parseSignature(sig);
    });
  }
});

describe("convertValue", () => {
  const SI7 = "(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>";
  const SI6 = "(sIsI[s]s)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId>";
  const f7 = {
    name: "a",
    serviceId: 1,
    machineId: "m",
    processId: 2,
    endpoints: ["e"],
    sessionId: "s",
    objectUid: "u",
  };

  it("ServiceInfo 7 → 6 → 7 by field name", () => {
    const { objectUid: _, ...f6 } = f7;
    expect(convertValue(new Struct("ServiceInfo", f7), SI7, SI6)).toEqual(new Struct("ServiceInfo", f6));
    expect(convertValue(new Struct("ServiceInfo", f6), SI6, SI7)).toEqual(
      new Struct("ServiceInfo", { ...f6, objectUid: "" }),
    );
  });

  it("numbers with range checks", () => {
    expect(convertValue(5, "i", "l")).toBe(5n);
    expect(convertValue(5n, "L", "C")).toBe(5);
    expect(convertValue(2.7, "d", "i")).toBe(2);
    expect(convertValue(1.1, "d", "f")).toBe(Math.fround(1.1));
    expect(convertValue(true, "b", "i")).toBe(1);
    expect(convertValue(3, "i", "b")).toBe(true);
    expect(wireError(() => convertValue(300, "i", "C")).code).toBe("QI_ERR_WIRE_CONVERSION");
    expect(wireError(() => convertValue(-1, "i", "L")).code).toBe("QI_ERR_WIRE_CONVERSION");
    expect(wireError(() => convertValue(Number.NaN, "d", "i")).code).toBe("QI_ERR_WIRE_CONVERSION");
  });

  it("containers elementwise, dynamics wrapped and unwrapped", () => {
    expect(convertValue([1, 2], "[i]", "[l]")).toEqual([1n, 2n]);
    expect(convertValue(new Map([["a", 1]]), "{si}", "{sd}")).toEqual(new Map([["a", 1]]));
    expect(convertValue([1, "x"], "(is)", "(ls)")).toEqual([1n, "x"]);
    expect(convertValue([1, "x"], "(is)", "(ls)<T,a,b>")).toEqual(new Struct("T", { a: 1n, b: "x" }));
    expect(convertValue(new Dynamic("i", 4), "m", "l")).toBe(4n);
    expect(convertValue([new Dynamic("i", 4)], "[m]", "[I]")).toEqual([4]);
    expect(convertValue(4, "i", "m")).toEqual(new Dynamic("i", 4));
    expect(convertValue(new Dynamic("i", 4), "m", "m")).toEqual(new Dynamic("i", 4));
    expect(convertValue(4, "i", "+l")).toEqual(Optional.of(4n));
    expect(convertValue(Optional.of(4), "+i", "l")).toBe(4n);
    expect(wireError(() => convertValue(Optional.NONE, "+i", "l")).code).toBe("QI_ERR_WIRE_CONVERSION");
    expect(wireError(() => convertValue([1], "(i)", "(ii)")).code).toBe("QI_ERR_WIRE_CONVERSION");
    expect(wireError(() => convertValue("a", "s", "i")).code).toBe("QI_ERR_WIRE_CONVERSION");
    expect(wireError(() => convertValue(Dynamic.EMPTY, "m", "i")).code).toBe("QI_ERR_WIRE_CONVERSION");
  });

  it("defaultValue", () => {
    expect(defaultValue("(bislL[i]{si}+im)<D,a,b,c,d,e,f,g,h,j>")).toEqual(
      new Struct("D", {
        a: false,
        b: 0,
        c: "",
        d: 0n,
        e: 0n,
        f: [],
        g: new Map(),
        h: Optional.NONE,
        j: Dynamic.EMPTY,
      }),
    );
    expect(defaultValue("(ir)")).toEqual([0, new Raw(new Uint8Array(0))]);
    expect((defaultValue("o") as ObjectRef).isNull).toBe(true);
  });
});

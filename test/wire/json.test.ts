/** JSON ↔ qi values by signature (wire/json.ts), the one conversion of the CLI and the web console. */
import { describe, expect, it } from "vitest";
import {
  argsFromJson,
  ConversionError,
  Dynamic,
  fromJson,
  jsonToDynamic,
  Optional,
  parseJson,
  Raw,
  Struct,
  toJson,
} from "../../src/wire/index.js";

describe("JSON → qi by signature", () => {
  it("integers are range-checked; l and L become bigints; floats take numbers", () => {
    expect(fromJson(7, "i")).toBe(7);
    expect(fromJson("12", "I")).toBe(12);
    expect(fromJson(5, "l")).toBe(5n);
    expect(fromJson(2.5, "d")).toBe(2.5);
    expect(() => fromJson(300, "C")).toThrow(ConversionError);
    expect(() => fromJson(1.5, "i")).toThrow(/expected an integer/);
    expect(() => fromJson(-1, "L")).toThrow(/out of range/);
  });

  it("float32 from its shortest decimal is that float32; non-finite floats come back from toJson's strings", () => {
    expect(fromJson(0.8, "f")).toBe(Math.fround(0.8));
    expect(fromJson(0.8, "d")).toBe(0.8);
    for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      for (const sig of ["f", "d"]) expect(fromJson(toJson(x), sig)).toBe(x);
    expect(() => fromJson("nan", "d")).toThrow(/expected a number/);
    expect(() => fromJson({}, "f")).toThrow(/expected a number/);
  });

  it("lists, maps (object or pairs), tuples, structs by field name, optionals", () => {
    expect(fromJson([1, 2], "[i]")).toEqual([1, 2]);
    expect(fromJson({ a: 1 }, "{si}")).toEqual(new Map([["a", 1]]));
    expect(fromJson({ "3": "x" }, "{is}")).toEqual(new Map([[3, "x"]]));
    expect(fromJson([[[1], true]], "{[i]b}")).toEqual(new Map([[[1], true]]));
    expect(fromJson([1, "a"], "(is)")).toEqual([1, "a"]);
    const point = fromJson({ x: 1, y: 2 }, "(ii)<Point,x,y>") as Struct;
    expect(point).toBeInstanceOf(Struct);
    expect(point.fields).toEqual({ x: 1, y: 2 });
    expect(() => fromJson({ x: 1 }, "(ii)<Point,x,y>")).toThrow(/missing field "y"/);
    expect(fromJson(null, "+i")).toBe(Optional.NONE);
    expect((fromJson(4, "+i") as Optional<number>).value).toBe(4);
  });

  it("raw from base64, {base64}, byte arrays or text; m from the value's natural type", () => {
    expect((fromJson("base64:AQID", "r") as Raw).bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect((fromJson({ base64: "AQID" }, "r") as Raw).bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect((fromJson([255, 0], "r") as Raw).bytes).toEqual(new Uint8Array([255, 0]));
    expect((fromJson("hé", "r") as Raw).bytes).toEqual(new TextEncoder().encode("hé"));
    expect(jsonToDynamic([1, 2])).toEqual(new Dynamic("[i]", [1, 2]));
    expect(jsonToDynamic({ a: 1, b: "x" }).signature).toBe("{sm}");
    expect(jsonToDynamic(2 ** 40)).toEqual(new Dynamic("l", 2n ** 40n));
    expect(jsonToDynamic(null)).toBe(Dynamic.EMPTY);
  });

  it("argument lists: by the parameter tuple (count checked), or dynamics for m", () => {
    expect(argsFromJson([1, "a"], "(is)")).toEqual([1, "a"]);
    expect(() => argsFromJson([1], "(is)")).toThrow(/expected 2, got 1/);
    expect(argsFromJson([1, "a"], "m")).toEqual([new Dynamic("i", 1), new Dynamic("s", "a")]);
  });

  it("parseJson keeps integers beyond 2^53 exact", () => {
    expect(parseJson('{"big": 18446744073709551615, "s": "12345678901234567890"}')).toEqual({
      big: 18446744073709551615n,
      s: "12345678901234567890",
    });
    expect(fromJson(parseJson("18446744073709551615"), "L")).toBe(18446744073709551615n);
  });
});

describe("qi → JSON", () => {
  it("bigints, raw, maps, structs, optionals, dynamics; class instances as <object>", () => {
    const value = [
      2n ** 64n - 1n,
      5n,
      new Raw(new Uint8Array([1, 2, 3])),
      new Map([[1, "a"]]),
      new Struct("P", { x: 1 }),
      Optional.NONE,
      new Dynamic("s", "d"),
      new (class RemoteProxy {})(),
    ];
    expect(toJson(value)).toEqual([
      "18446744073709551615",
      5,
      { base64: "AQID" },
      { "1": "a" },
      { x: 1 },
      null,
      "d",
      "<object>",
    ]);
    expect(toJson(new Raw(new Uint8Array(640)), "human")).toBe("<raw 640 bytes>");
  });

  it("round-trips through the signature", () => {
    const sig = "{s(i[d])<Sample,n,values>}";
    const json = { a: { n: 1, values: [0.5, 2] } };
    expect(toJson(fromJson(json, sig))).toEqual(json);
  });
});

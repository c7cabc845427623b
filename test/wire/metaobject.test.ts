import { describe, expect, it } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import { WireError } from "../../src/wire/errors.js";
import type { MetaMethod, MetaObject } from "../../src/wire/metaobject-types.js";
import {
  decodeMetaObject,
  emptyMetaObject,
  encodeMetaObject,
  findMethod,
  findProperty,
  findSignal,
  META_OBJECT_SIGNATURE,
  methodsByName,
} from "../../src/wire/metaobject.js";
import { Reader } from "../../src/wire/reader.js";
import { Struct } from "../../src/wire/values.js";
import { Writer } from "../../src/wire/writer.js";

const method = (uid: number, name: string, params: string, ret = "v"): MetaMethod => ({
  uid,
  returnSignature: ret,
  name,
  parametersSignature: params,
  description: "",
  parameters: [],
  returnDescription: "",
});

const sample = (): MetaObject => ({
  methods: new Map([
    [100, method(100, "add", "(ii)", "i")],
    [101, method(101, "add", "(dd)", "d")],
    [
      102,
      { ...method(102, "ping", "()"), description: "pong", parameters: [{ name: "x", description: "é" }] },
    ],
  ]),
  signals: new Map([[103, { uid: 103, name: "level", signature: "(i)" }]]),
  properties: new Map([[103, { uid: 103, name: "level", signature: "i" }]]),
  description: "sample",
});

describe("MetaObject codec", () => {
  it("empty MetaObject is 16 zero bytes", () => {
    expect(encodeMetaObject(emptyMetaObject())).toEqual(new Uint8Array(16));
    expect(decodeMetaObject(new Uint8Array(16))).toEqual(emptyMetaObject());
  });

  it("round-trips and matches the generic codec with META_OBJECT_SIGNATURE", () => {
    const mo = sample();
    const bytes = encodeMetaObject(mo);
    expect(decodeMetaObject(bytes)).toEqual(mo);
    expect(encode(META_OBJECT_SIGNATURE, mo)).toEqual(bytes);
    const generic = decode(META_OBJECT_SIGNATURE, bytes) as Struct;
    expect(generic).toBeInstanceOf(Struct);
    expect(generic.name).toBe("MetaObject");
    expect(encode(META_OBJECT_SIGNATURE, generic)).toEqual(bytes);
  });

  it("writes into a given writer and reads from a reader position", () => {
    const w = new Writer();
    w.u8(0xaa);
    encodeMetaObject(sample(), w);
    w.u8(0xbb);
    const out = w.finish();
    const r = new Reader(out, 1);
    expect(decodeMetaObject(r)).toEqual(sample());
    expect(r.u8()).toBe(0xbb);
  });

  it("rejects trailing bytes, truncation and absurd counts", () => {
    const bytes = encodeMetaObject(sample());
    const code = (b: Uint8Array) => {
      try {
        decodeMetaObject(b);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        return (e as WireError).code;
      }
      return "ok";
    };
    expect(code(Uint8Array.from([...bytes, 0]))).toBe("QI_ERR_WIRE_TRAILING_BYTES");
    expect(code(bytes.subarray(0, bytes.length - 1))).toBe("QI_ERR_WIRE_COUNT_TOO_LARGE");
    expect(code(bytes.subarray(0, 10))).toBe("QI_ERR_WIRE_COUNT_TOO_LARGE");
    expect(code(Uint8Array.of(0xff, 0xff, 0xff, 0xff, ...new Array(40).fill(0)))).toBe(
      "QI_ERR_WIRE_COUNT_TOO_LARGE",
    );
    expect(code(Uint8Array.of(0, 0, 0))).toBe("QI_ERR_WIRE_TRUNCATED");
  });
});

describe("lookup helpers", () => {
  it("findMethod resolves name and name::(sig)", () => {
    const mo = sample();
    expect(findMethod(mo, "ping")?.uid).toBe(102);
    expect(findMethod(mo, "add")).toBeUndefined(); // overloaded
    expect(findMethod(mo, "add::(dd)")?.uid).toBe(101);
    expect(findMethod(mo, "add::(ii)")?.uid).toBe(100);
    expect(findMethod(mo, "add::(i)")).toBeUndefined();
    expect(findMethod(mo, "nope")).toBeUndefined();
  });

  it("methodsByName lists overloads by uid", () => {
    expect(methodsByName(sample(), "add").map((m) => m.uid)).toEqual([100, 101]);
    expect(methodsByName(sample(), "x")).toEqual([]);
  });

  it("findSignal / findProperty", () => {
    expect(findSignal(sample(), "level")?.signature).toBe("(i)");
    expect(findProperty(sample(), "level")?.signature).toBe("i");
    expect(findProperty(sample(), "x")).toBeUndefined();
  });
});

/**
 * Property: for an arbitrary signature and an arbitrary value of it,
 * decode(encode(v)) deep-equals v, and re-encoding the decoded value gives the same bytes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CodecContext, decode, encode } from "../../src/wire/codec.js";
import type { MetaObject } from "../../src/wire/metaobject-types.js";
import { MetaObjectSendCache } from "../../src/wire/metaobject.js";
import { parseSignature, printSignature, type SigNode } from "../../src/wire/signature.js";
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "../../src/wire/values.js";

const SCALARS = "bcCwWiIlLfdsrvmo".split("");

function sigText(depth: number): fc.Arbitrary<string> {
  const scalar = fc.constantFrom(...SCALARS);
  if (depth <= 0) return scalar;
  const inner = sigText(depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: inner.map((t) => `[${t}]`) },
    { weight: 1, arbitrary: inner.map((t) => `#${t}`) },
    { weight: 1, arbitrary: inner.map((t) => `+${t}`) },
    { weight: 1, arbitrary: fc.tuple(inner, inner).map(([k, v]) => `{${k}${v}}`) },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }).map((m) => `(${m.join("")})`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(inner, { maxLength: 4 }), fc.constantFrom("S", "Point", ""))
        .map(([m, name]) => `(${m.join("")})<${[name, ...m.map((_, i) => `f${i}`)].join(",")}>`),
    },
    { weight: 1, arbitrary: scalar.map((t) => `${t}<note(x)>`) },
  );
}

const sigNode = (depth: number): fc.Arbitrary<SigNode> => sigText(depth).map((t) => parseSignature(t));

const hexKey = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const isWellFormed = (s: string): boolean =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }).filter((s) => isWellFormed(s)),
  fc.string({ maxLength: 40 }),
);
// Always invalid UTF-8 (0xff never occurs in UTF-8).
const byteString = fc.uint8Array({ maxLength: 6 }).map((b) => new ByteString(Uint8Array.from([...b, 0xff])));

const metaObject: fc.Arbitrary<MetaObject> = fc
  .record({
    uids: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
    description: fc.string({ maxLength: 6 }),
    names: fc.array(fc.string({ maxLength: 5 }), { minLength: 3, maxLength: 3 }),
  })
  .map(({ uids, description, names }) => ({
    methods: new Map(
      uids.map((uid, i) => [
        uid,
        {
          uid,
          returnSignature: "i",
          name: names[i % 3],
          parametersSignature: "(s)",
          description: "",
          parameters: [{ name: names[(i + 1) % 3], description: "d" }],
          returnDescription: "r",
        },
      ]),
    ),
    signals: new Map(uids.slice(0, 1).map((uid) => [uid, { uid, name: "sig", signature: "(i)" }])),
    properties: new Map(uids.slice(1, 2).map((uid) => [uid, { uid, name: "prop", signature: "i" }])),
    description,
  }));

const objectRef = fc
  .tuple(
    metaObject,
    fc.nat({ max: 0xffffffff }),
    fc.nat({ max: 0xffffffff }),
    fc.uint8Array({ minLength: 20, maxLength: 20 }),
  )
  .map(([mo, s, o, uid]) => new ObjectRef(mo, s, o, uid));

function valueFor(node: SigNode, depth: number): fc.Arbitrary<unknown> {
  switch (node.kind) {
    case "scalar":
      switch (node.code) {
        case "b":
          return fc.boolean();
        case "c":
          return fc.integer({ min: -128, max: 127 });
        case "C":
          return fc.integer({ min: 0, max: 255 });
        case "w":
          return fc.integer({ min: -32768, max: 32767 });
        case "W":
          return fc.integer({ min: 0, max: 65535 });
        case "i":
          return fc.integer();
        case "I":
          return fc.nat({ max: 0xffffffff });
        case "l":
          return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
        case "L":
          return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
        case "f":
          return fc.float().map((x) => Math.fround(x));
        case "d":
          return fc.double();
        case "s":
          return fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: byteString });
        case "r":
          return fc.uint8Array({ maxLength: 8 }).map((b) => new Raw(b));
        case "v":
          return fc.constant(undefined);
        case "o":
          return objectRef;
        case "m":
          return fc.oneof(
            { weight: 1, arbitrary: fc.constant(Dynamic.EMPTY) },
            {
              weight: 5,
              arbitrary: sigNode(Math.max(0, depth - 1)).chain((inner) =>
                valueFor(inner, depth - 1).map((v) => new Dynamic(printSignature(inner), v)),
              ),
            },
          );
        default:
          throw new Error(`no generator for ${node.code}`);
      }
    case "list":
    case "varargs":
      return fc.array(valueFor(node.element, depth), { maxLength: 4 });
    case "map": {
      const k = node.key;
      return fc
        .uniqueArray(fc.tuple(valueFor(k, depth), valueFor(node.value, depth)), {
          maxLength: 4,
          selector: (e) => hexKey(encode(k, e[0], { objectUid: true })),
        })
        .map((entries) => new Map(entries));
    }
    case "tuple": {
      const names = node.fieldNames;
      return fc.tuple(...node.members.map((m) => valueFor(m, depth))).map((values) => {
        if (names === undefined) return values;
        const fields: Record<string, unknown> = {};
        names.forEach((n, i) => {
          fields[n] = values[i];
        });
        return new Struct(node.name ?? "", fields);
      });
    }
    case "optional":
      return fc.oneof(
        fc.constant(Optional.NONE),
        valueFor(node.element, depth).map((v) => Optional.of(v)),
      );
    default:
      throw new Error(`no generator for ${node.kind}`);
  }
}

const typedValue = sigNode(3).chain((node) => valueFor(node, 2).map((value) => ({ node, value })));

describe("codec properties", () => {
  it("decode(encode(v)) equals v and re-encodes byte-identically", () => {
    const ctx: CodecContext = { objectUid: true };
    fc.assert(
      fc.property(typedValue, ({ node, value }) => {
        const bytes = encode(node, value, ctx);
        const back = decode(node, bytes, ctx);
        expect(back).toStrictEqual(value);
        expect(encode(node, back, ctx)).toEqual(bytes);
        // Inside a dynamic too.
        const dyn = new Dynamic(printSignature(node), value);
        expect(decode("m", encode("m", dyn, ctx), ctx)).toStrictEqual(dyn);
      }),
      { numRuns: 1500 },
    );
  });

  it("round-trips with the MetaObject cache format", () => {
    fc.assert(
      fc.property(typedValue, ({ node, value }) => {
        const tx = (): CodecContext => ({ metaObjectCache: { send: new MetaObjectSendCache() } });
        const rx: CodecContext = { metaObjectCache: { receive: new Map() } };
        const bytes = encode(node, value, tx());
        const back = decode(node, bytes, rx);
        const withoutUid = (v: unknown) =>
          JSON.stringify(v, (_, x) =>
            x instanceof ObjectRef ? [x.serviceId, x.objectId] : typeof x === "bigint" ? `${x}n` : x,
          );
        expect(withoutUid(back)).toEqual(withoutUid(value));
        expect(encode(node, back, tx())).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it("Maps compare regardless of order in toEqual (sanity check of the property)", () => {
    expect(
      new Map([
        ["a", 1],
        ["b", 2],
      ]),
    ).toEqual(
      new Map([
        ["b", 2],
        ["a", 1],
      ]),
    );
  });
});

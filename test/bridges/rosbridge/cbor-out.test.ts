import { decode } from "cbor2";
import { describe, expect, it } from "vitest";
import { encodeCborPieces } from "../../../src/bridges/rosbridge/cbor-out.js";

const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces);

describe("CBOR written as pieces", () => {
  it("decodes (by a general decoder) to the value written", () => {
    const value = {
      op: "publish",
      n: [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32, -1, -25, -(2 ** 40), 1.5, -0.25],
      big: 2n ** 63n,
      neg: -(2n ** 40n),
      t: true,
      f: false,
      z: null,
      text: "héllo ✓",
      small: new Uint8Array([1, 2, 3]),
      nested: { a: [{ b: "c" }] },
    };
    const back = decode(joined(encodeCborPieces(value))) as Record<string, unknown>;
    expect([...(back.small as Uint8Array)]).toEqual([1, 2, 3]);
    expect({ ...back, small: null, neg: Number(back.neg) }).toEqual({
      ...value,
      small: null,
      neg: -(2 ** 40),
    });
  });

  it("leaves out undefined map values, as JSON does", () => {
    expect(decode(joined(encodeCborPieces({ a: 1, b: undefined })))).toEqual({ a: 1 });
  });

  it("references a large byte string instead of copying it", () => {
    const pixels = new Uint8Array(921_600).fill(9);
    const pieces = encodeCborPieces({ header: { seq: 1 }, data: pixels, after: "x" });
    expect(pieces).toContain(pixels);
    const back = decode(joined(pieces)) as { data: Uint8Array; after: string };
    expect(back.data.byteLength).toBe(921_600);
    expect(back.after).toBe("x");
  });

  it("refuses what CBOR has no form for", () => {
    expect(() => encodeCborPieces({ f: () => 1 })).toThrow(/cannot encode a function/);
  });
});

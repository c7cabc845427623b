/**
 * The console's pure parts, without a browser: a call form's field conversion (errors name the
 * parameter as the user sees it), what can be plotted, and float32 printing (src/wire/floats.ts,
 * shared with the CLI).
 */
import { describe, expect, it } from "vitest";
import { fieldValue } from "../../../src/web/console/call-form.js";
import { asNumber, isNumericSignature, numericMembers } from "../../../src/web/console/numeric.js";
import { Dynamic, Struct, shortFloat32, tidyFloats } from "../../../src/wire/index.js";

describe("a call form's fields", () => {
  it("converts each field by its own type", () => {
    expect(fieldValue("40", "i", "a")).toBe(40);
    expect(fieldValue("[1, 2]", "[i]", "xs")).toEqual([1, 2]);
    expect(fieldValue('{"level": 5}', "(i)<LogLevel,level>", "level")).toEqual(
      new Struct("LogLevel", { level: 5 }),
    );
    expect(fieldValue("12345678901234", "l", "big")).toBe(12345678901234n);
  });

  it("takes plain text for a string, JSON quotes optional", () => {
    expect(fieldValue("hello", "s", "name")).toBe("hello");
    expect(fieldValue('"hello"', "s", "name")).toBe("hello");
    expect(fieldValue("42", "s", "name")).toBe("42");
    expect(fieldValue("", "s", "name")).toBe("");
  });

  it("names the parameter and its type when a value does not fit", () => {
    expect(() => fieldValue('"two"', "i", "b")).toThrow(/^b \(int32\): /);
    expect(() => fieldValue("", "i", "b")).toThrow("b (int32): no value given");
    expect(() => fieldValue("{oops", "[i]", "xs")).toThrow(/^xs \(list<int32>\): .* is not a value/);
    expect(() => fieldValue("3000000000", "i", "b")).toThrow(/^b \(int32\)/);
    for (const bad of ['"two"', "", "{oops"]) {
      try {
        fieldValue(bad, "i", "b");
      } catch (e) {
        expect((e as Error).message).not.toMatch(/arg\[|argument \d/);
      }
    }
  });
});

describe("what the console plots", () => {
  it("numeric scalars, and dynamics (checked per value)", () => {
    expect(["i", "f", "d", "L", "b", "m"].every(isNumericSignature)).toBe(true);
    expect(["s", "[i]", "(ii)", "r", "{si}"].some(isNumericSignature)).toBe(false);
    expect(numericMembers(["i", "s", "f"])).toEqual([0, 2]);
    expect(asNumber(3n)).toBe(3);
    expect(asNumber(true)).toBe(1);
    expect(asNumber(new Dynamic("f", 0.5))).toBe(0.5);
    expect(asNumber("7")).toBeNaN();
  });
});

describe("float32 printing (wire/floats.ts)", () => {
  it("gives the shortest decimal of the same float32", () => {
    expect(shortFloat32(Math.fround(0.8))).toBe(0.8);
    expect(shortFloat32(Math.fround(86.95))).toBe(86.95);
    expect(shortFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    expect(shortFloat32(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it("reaches floats inside dynamics, lists, maps and structs", () => {
    const f = Math.fround(0.3);
    expect(tidyFloats(new Dynamic("f", f), "m")).toEqual(new Dynamic("f", 0.3));
    expect(tidyFloats([f, 2], "(fi)")).toEqual([0.3, 2]);
    expect(tidyFloats(new Map([["a", f]]), "{sf}")).toEqual(new Map([["a", 0.3]]));
    expect(tidyFloats(new Struct("P", { x: f }), "(f)<P,x>")).toEqual(new Struct("P", { x: 0.3 }));
    // A double stays as it is.
    expect(tidyFloats(0.30000001192092896, "d")).toBe(0.30000001192092896);
  });
});

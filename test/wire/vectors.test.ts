/**
 * Byte-exact vectors: libqi 4.0.5 captures (test/fixtures) and the hex examples of the
 * protocol reference §10. Every vector decodes and re-encodes to the identical bytes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import {
  decodeMetaObject,
  encodeMetaObject,
  findMethod,
  META_OBJECT_SIGNATURE,
} from "../../src/wire/metaobject.js";
import { ByteString, Dynamic, Optional, Raw, Struct } from "../../src/wire/values.js";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string): Uint8Array => {
  const clean = s.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
};
/** Hex with "quoted text" segments, as written in the spec. */
const spec = (s: string): Uint8Array => {
  let out = "";
  for (const [i, part] of s.split('"').entries()) {
    out += i % 2 === 1 ? hex(new TextEncoder().encode(part)) : part.replace(/[^0-9a-fA-F]/g, "");
  }
  return unhex(out);
};

interface Vector {
  name: string;
  signature: string;
  bytes: Uint8Array;
}

function loadVectors(file: string): Vector[] {
  const text = readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [name, signature, h] = l.split("\t");
      return { name, signature, bytes: unhex(h) };
    })
    .filter((v) => v.signature !== "header");
}

const vectors = [...loadVectors("libqi-4.0.5-values.tsv"), ...loadVectors("libqi-4.0.5-wire.tsv")];

describe("libqi 4.0.5 vectors", () => {
  it("has the expected vectors", () => {
    expect(vectors.length).toBe(24);
  });

  for (const v of vectors) {
    it(`${v.name}: decode + re-encode is byte-exact`, () => {
      const sig = v.signature === "MetaObject" ? META_OBJECT_SIGNATURE : v.signature;
      const value = decode(sig, v.bytes);
      expect(hex(encode(sig, value))).toBe(hex(v.bytes));
      if (v.signature === "MetaObject") {
        const mo = decodeMetaObject(v.bytes);
        expect(hex(encodeMetaObject(mo))).toBe(hex(v.bytes));
        // The generic codec also encodes the MetaObject interface by field name.
        expect(hex(encode(META_OBJECT_SIGNATURE, mo))).toBe(hex(v.bytes));
      }
    });
  }

  const byName = (n: string) => vectors.find((v) => v.name === n)!;

  it("decodes the scalar vectors to the expected values", () => {
    expect(decode("i", byName("int32").bytes)).toBe(42);
    expect(decode("s", byName("string").bytes)).toBe("hello");
    expect(decode("[i]", byName("list_int").bytes)).toEqual([1, 2, 3]);
    expect(decode("{si}", byName("map_string_int").bytes)).toEqual(new Map([["a", 1]]));
    expect(decode("(is)", byName("tuple_int_string").bytes)).toEqual([7, "x"]);
    expect(decode("m", byName("dynamic_list_dynamic").bytes)).toEqual(
      new Dynamic("[m]", [new Dynamic("i", 1), new Dynamic("s", "a")]),
    );
    expect(decode("l", byName("int64_neg").bytes)).toBe(-2n);
    expect(decode("L", byName("uint64_max").bytes)).toBe(2n ** 64n - 1n);
    expect(decode("d", byName("double").bytes)).toBe(1.5);
    expect(decode("f", byName("float").bytes)).toBe(1.5);
    expect(decode("+i", byName("optional_int_set").bytes)).toEqual(Optional.of(5));
    expect(decode("+i", byName("optional_int_none").bytes)).toBe(Optional.NONE);
  });

  it("services reply: binary objectUid decodes to a ByteString and round-trips", () => {
    const v = byName("sd_services_reply_payload");
    const list = decode(v.signature, v.bytes) as Struct[];
    expect(list).toHaveLength(2);
    expect(list[0].name).toBe("ServiceInfo");
    expect(list[0].fields.name).toBe("ServiceDirectory");
    expect(list[0].fields.objectUid).toBe("");
    const uid = list[1].fields.objectUid;
    expect(uid).toBeInstanceOf(ByteString);
    expect((uid as ByteString).bytes).toHaveLength(20);
    expect(hex(encode(v.signature, list))).toBe(hex(v.bytes));
  });

  it("SD MetaObject exposes the reserved methods", () => {
    const mo = decodeMetaObject(byName("sd_metaobject_reply_payload").bytes);
    expect(mo.methods.size).toBe(22);
    expect(findMethod(mo, "registerEvent")?.uid).toBe(0);
    expect(findMethod(mo, "registerEvent::(IIL)")?.returnSignature).toBe("L");
    expect(findMethod(mo, "metaObject")?.returnSignature).toBe(META_OBJECT_SIGNATURE);
  });
});

/** §10 examples (payload parts). [name, signature, value, hex] */
const specExamples: [string, string, unknown, string][] = [
  ["J int32 42 as dynamic", "m", new Dynamic("i", 42), "01 00 00 00 69 2a 00 00 00"],
  ["J hello as dynamic", "m", new Dynamic("s", "hello"), "01 00 00 00 73 05 00 00 00 68 65 6c 6c 6f"],
  [
    "J [s] as dynamic",
    "m",
    new Dynamic("[s]", ["a", "b"]),
    "03 00 00 00 5b 73 5d 02 00 00 00 01 00 00 00 61 01 00 00 00 62",
  ],
  ["J void dynamic", "m", new Dynamic("v", undefined), "01 00 00 00 76"],
  ["J empty dynamic", "m", Dynamic.EMPTY, "00 00 00 00"],
  ["J +i 7", "+i", Optional.of(7), "01 07 00 00 00"],
  ["J +i none", "+i", Optional.NONE, "00"],
  ["J (is)", "(is)", [1, "a"], "01 00 00 00 01 00 00 00 61"],
  ["J {si}", "{si}", new Map([["a", 1]]), "01 00 00 00 01 00 00 00 61 01 00 00 00"],
  ["J r", "r", new Raw(Uint8Array.of(1, 2, 3)), "03 00 00 00 01 02 03"],
  ["J f 1.0", "f", 1, "00 00 80 3f"],
  ["J d 1.0", "d", 1, "00 00 00 00 00 00 f0 3f"],
  ["J l -1", "l", -1n, "ff ff ff ff ff ff ff ff"],
  ["J W 513", "W", 513, "01 02"],
  ["J c -2", "c", -2, "fe"],
  ["J b true", "b", true, "01"],
  ["D service(Foo)", "(s)", ["Foo"], "03 00 00 00 46 6f 6f"],
  ["E metaObject(0)", "(I)", [0], "00 00 00 00"],
  [
    "F registerEvent",
    "(IIL)",
    [1, 106, (106n << 32n) | 1n],
    "01 00 00 00 6a 00 00 00 01 00 00 00 6a 00 00 00",
  ],
  ["F reply", "L", 7n, "07 00 00 00 00 00 00 00"],
  ["G serviceAdded", "(Is)", [12, "Foo"], "0c 00 00 00 03 00 00 00 46 6f 6f"],
  ["H error boom", "m", new Dynamic("s", "boom"), "01 00 00 00 73 04 00 00 00 62 6f 6f 6d"],
  ["K cancel", "I", 9, "09 00 00 00"],
  ["L terminate", "(I)", [12], "0c 00 00 00"],
  [
    "L2 dynamic args",
    "m",
    new Dynamic("(is)", [1, "x"]),
    "04 00 00 00 28 69 73 29 01 00 00 00 01 00 00 00 78",
  ],
];

const SERVICE_INFO =
  "(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>";
const serviceInfo = new Struct("ServiceInfo", {
  name: "ServiceDirectory",
  serviceId: 1,
  machineId: "7f0e1b2c",
  processId: 1234,
  endpoints: ["tcp://127.0.0.1:9559"],
  sessionId: "0",
  objectUid: "",
});
const serviceInfoHex =
  spec(`10 00 00 00 "ServiceDirectory"   01 00 00 00   08 00 00 00 "7f0e1b2c"   d2 04 00 00
01 00 00 00 14 00 00 00 "tcp://127.0.0.1:9559"   01 00 00 00 "0"   00 00 00 00`);

const capability = (name: string, value: boolean): string =>
  `${hex(Uint8Array.of(name.length, 0, 0, 0))} "${name}" 01 00 00 00 62 ${value ? "01" : "00"}`;
const sixCapabilities = [
  capability("ClientServerSocket", true),
  capability("MessageFlags", true),
  capability("MetaObjectCache", false),
  capability("ObjectPtrUID", true),
  capability("RelativeEndpointURI", true),
  capability("RemoteCancelableCalls", true),
].join(" ");
const capsMap = (): Map<string, Dynamic> =>
  new Map([
    ["ClientServerSocket", new Dynamic("b", true)],
    ["MessageFlags", new Dynamic("b", true)],
    ["MetaObjectCache", new Dynamic("b", false)],
    ["ObjectPtrUID", new Dynamic("b", true)],
    ["RelativeEndpointURI", new Dynamic("b", true)],
    ["RemoteCancelableCalls", new Dynamic("b", true)],
  ]);

describe("spec §10 examples", () => {
  for (const [name, sig, value, h] of specExamples) {
    it(`${name}: encode`, () => {
      expect(hex(encode(sig, value))).toBe(hex(unhex(h)));
    });
    it(`${name}: decode`, () => {
      expect(decode(sig, unhex(h))).toEqual(value);
    });
  }

  it("I ServiceInfo: both directions", () => {
    expect(hex(encode(SERVICE_INFO, serviceInfo))).toBe(hex(serviceInfoHex));
    expect(decode(SERVICE_INFO, serviceInfoHex)).toEqual(serviceInfo);
    // services() reply: list count + the above
    const reply = new Uint8Array([1, 0, 0, 0, ...serviceInfoHex]);
    expect(hex(encode(`[${SERVICE_INFO}]`, [serviceInfo]))).toBe(hex(reply));
    expect(decode(`[${SERVICE_INFO}]`, reply)).toEqual([serviceInfo]);
  });

  it("I ServiceInfo: plain object by field name encodes the same", () => {
    expect(hex(encode(SERVICE_INFO, { ...serviceInfo.fields }))).toBe(hex(serviceInfoHex));
  });

  it("A capability map of the Authenticate call: both directions", () => {
    const bytes = spec(`06 00 00 00 ${sixCapabilities}`);
    expect(bytes.length).toBe(161);
    expect(hex(encode("{sm}", capsMap()))).toBe(hex(bytes));
    expect(decode("{sm}", bytes)).toEqual(capsMap());
    // Insertion order does not matter: libqi sorts keys bytewise.
    const reversed = new Map([...capsMap()].reverse());
    expect(hex(encode("{sm}", reversed))).toBe(hex(bytes));
    // Plain object with plain values (signature inferred: b).
    const plain = Object.fromEntries([...capsMap()].map(([k, d]) => [k, d.value]));
    expect(hex(encode("{sm}", plain))).toBe(hex(bytes));
  });

  it("B capability map of the Authenticate reply: both directions", () => {
    const bytes = spec(
      `07 00 00 00 ${sixCapabilities} 0f 00 00 00 "__qi_auth_state" 01 00 00 00 49 03 00 00 00`,
    );
    expect(bytes.length).toBe(0xbd);
    const value = capsMap();
    value.set("__qi_auth_state", new Dynamic("I", 3));
    expect(hex(encode("{sm}", value))).toBe(hex(bytes));
    expect(decode("{sm}", bytes)).toEqual(value);
  });

  it("B 2.5 capture tail: auth state as i", () => {
    const bytes = spec(
      `01 00 00 00 0f 00 00 00 5f 5f 71 69 5f 61 75 74 68 5f 73 74 61 74 65 01 00 00 00 69 03 00 00 00`,
    );
    const value = new Map([["__qi_auth_state", new Dynamic("i", 3)]]);
    expect(decode("{sm}", bytes)).toEqual(value);
    expect(hex(encode("{sm}", { __qi_auth_state: 3 }))).toBe(hex(bytes));
  });

  it("M start of the real SD MetaObject", () => {
    const start = spec(`16 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 4c 0d 00 00 00 "registerEvent"
      05 00 00 00 "(IIL)" 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00`);
    const sd = vectors.find((v) => v.name === "sd_metaobject_reply_payload")!;
    expect(hex(sd.bytes.subarray(0, start.length))).toBe(hex(start));
    const mo = decodeMetaObject(sd.bytes);
    expect([...mo.methods.keys()]).toEqual([
      0, 1, 2, 3, 5, 6, 7, 8, 80, 81, 82, 83, 84, 85, 100, 101, 102, 103, 104, 105, 108, 109,
    ]);
    expect(mo.methods.get(0)).toEqual({
      uid: 0,
      returnSignature: "L",
      name: "registerEvent",
      parametersSignature: "(IIL)",
      description: "",
      parameters: [],
      returnDescription: "",
    });
    expect([...mo.signals.keys()]).toEqual([86, 106, 107]);
    expect(mo.properties.size).toBe(0);
    expect(mo.description).toBe("");
    // Encoding the first method alone reproduces the spec's bytes (before "key 1").
    const first = { ...mo, methods: new Map([[0, mo.methods.get(0)!]]) };
    const enc = encodeMetaObject(first);
    expect(hex(enc.subarray(4, start.length - 4))).toBe(hex(start.subarray(4, start.length - 4)));
  });

  it("O error payload from a robot", () => {
    const bytes = spec(`01 00 00 00 73 1a 00 00 00 "The robot is not localized"`);
    expect(bytes.length).toBe(0x23);
    expect(decode("m", bytes)).toEqual(new Dynamic("s", "The robot is not localized"));
    expect(hex(encode("m", "The robot is not localized"))).toBe(hex(bytes));
  });
});

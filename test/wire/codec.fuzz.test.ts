/**
 * Fuzz: random and mutated payloads through decode. Every failure must be a WireError with a
 * code (nothing else escapes), and whatever decodes must encode again.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CodecContext, decode, encode } from "../../src/wire/codec.js";
import { WireError } from "../../src/wire/errors.js";
import type { MetaObject } from "../../src/wire/metaobject-types.js";
import {
  decodeMetaObject,
  emptyMetaObject,
  META_OBJECT_SIGNATURE,
  MetaObjectSendCache,
} from "../../src/wire/metaobject.js";
import { Dynamic, ObjectRef, Optional, Struct } from "../../src/wire/values.js";

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

function fixtures(): { sig: string; bytes: Uint8Array }[] {
  const out: { sig: string; bytes: Uint8Array }[] = [];
  for (const f of ["libqi-4.0.5-values.tsv", "libqi-4.0.5-wire.tsv"]) {
    for (const line of readFileSync(new URL(`../fixtures/${f}`, import.meta.url), "utf8").split("\n")) {
      const [, sig, h] = line.split("\t");
      if (!h || sig === "header") continue;
      out.push({ sig: sig === "MetaObject" ? META_OBJECT_SIGNATURE : sig, bytes: unhex(h.trim()) });
    }
  }
  return out;
}

const SERVICE_INFO =
  "[(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>]";

interface Target {
  sig: string;
  ctx: CodecContext;
  reencode: boolean;
}

const targets: Target[] = [
  { sig: META_OBJECT_SIGNATURE, ctx: {}, reencode: true },
  { sig: "m", ctx: {}, reencode: true },
  { sig: "[m]", ctx: {}, reencode: true },
  { sig: "{sm}", ctx: {}, reencode: true },
  { sig: "o", ctx: {}, reencode: true },
  { sig: "o", ctx: { objectUid: true }, reencode: true },
  { sig: "o", ctx: { metaObjectCache: { receive: new Map<number, MetaObject>() } }, reencode: false },
  { sig: SERVICE_INFO, ctx: { strictUtf8: true }, reencode: true },
  { sig: "(is+[s]{i(sd)}#r)", ctx: {}, reencode: true },
  { sig: "[[v]]", ctx: {}, reencode: true },
  { sig: "{m[()]}", ctx: {}, reencode: true },
];

interface Seed extends Target {
  bytes: Uint8Array;
}

function seeds(): Seed[] {
  const fx = fixtures();
  const mo = decodeMetaObject(fx.find((f) => f.sig === META_OBJECT_SIGNATURE)!.bytes);
  const cacheCtx = (): CodecContext => ({ metaObjectCache: { receive: new Map<number, MetaObject>() } });
  const extra: [string, unknown, CodecContext?][] = [
    ["o", new ObjectRef(mo, 2, 1, undefined)],
    ["o", new ObjectRef(emptyMetaObject(), 2, 0, new Uint8Array(20).fill(7)), { objectUid: true }],
    ["m", new Dynamic("[(is)<P,a,b>]", [new Struct("P", { a: 1, b: "x" })])],
    ["m", new Dynamic("{s+[m]}", new Map([["k", Optional.of([new Dynamic("d", 1.5)])]]))],
    ["m", new Dynamic("o", new ObjectRef(emptyMetaObject(), 1, 0, undefined))],
    ["[m]", [new Dynamic("[v]", [undefined, undefined]), new Dynamic("r", new Uint8Array(3)), 1n, "s"]],
    ["(is+[s]{i(sd)}#r)", [1, "a", Optional.of(["b"]), new Map([[1, ["c", 2]]]), [new Uint8Array(2)]]],
    ["[[v]]", [[undefined], []]],
    ["{m[()]}", new Map([[new Dynamic("i", 1), [[], []]]])],
  ];
  const out: Seed[] = fx.map((f) => ({ ...f, ctx: {}, reencode: true }));
  for (const [sig, v, ctx = {}] of extra) out.push({ sig, ctx, reencode: true, bytes: encode(sig, v, ctx) });
  // the cache format: transmitted MetaObject, then a reference to it
  const send = new MetaObjectSendCache();
  const first = encode("o", new ObjectRef(mo, 2, 1, undefined), { metaObjectCache: { send } });
  const second = encode("o", new ObjectRef(mo, 2, 3, undefined), { metaObjectCache: { send } });
  out.push({ sig: "(oo)", ctx: cacheCtx(), reencode: false, bytes: Uint8Array.from([...first, ...second]) });
  const info = {
    name: "Foo",
    serviceId: 9,
    machineId: "m",
    processId: 1,
    endpoints: ["tcp://x:1"],
    sessionId: "",
    objectUid: "",
  };
  out.push({
    sig: SERVICE_INFO,
    ctx: { strictUtf8: true },
    reencode: true,
    bytes: encode(SERVICE_INFO, [info, info]),
  });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(src: Uint8Array, next: () => number, pool: Uint8Array[]): Uint8Array {
  const b = Uint8Array.from(src);
  switch (next() % 8) {
    case 0: {
      const flips = 1 + (next() % 3);
      for (let i = 0; i < flips && b.length > 0; i++) b[next() % b.length] ^= 1 << (next() % 8);
      return b;
    }
    case 1:
      return b.subarray(0, next() % (b.length + 1));
    case 2: {
      // count inflation
      if (b.length < 4) return b;
      const at = next() % (b.length - 3);
      const v = next() % 3 === 0 ? 0xffffffff : next() % 3 === 0 ? next() : (next() % 70000) + 1;
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    }
    case 3: {
      if (b.length > 0) b[next() % b.length] = next() & 0xff;
      return b;
    }
    case 4: {
      // delete a range
      const at = next() % (b.length + 1);
      const n = 1 + (next() % 8);
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
    }
    case 5: {
      // insert random bytes
      const at = next() % (b.length + 1);
      const ins = Uint8Array.from({ length: 1 + (next() % 8) }, () => next() & 0xff);
      return concat(b.subarray(0, at), ins, b.subarray(at));
    }
    case 6: {
      // splice the tail of another seed
      const other = pool[next() % pool.length];
      const at = next() % (b.length + 1);
      return concat(b.subarray(0, at), other.subarray(next() % (other.length + 1)));
    }
    default: {
      // a signature char swap inside dynamics: replace a printable byte by another type char
      const chars = "vbcCwWiIlLfdsrmoX_[]{}()<>+#~*";
      if (b.length > 0) b[next() % b.length] = chars.charCodeAt(next() % chars.length);
      return b;
    }
  }
}

describe("decode fuzz", () => {
  it("only WireErrors escape, over 120,000 random and mutated payloads", () => {
    const next = rng(0xc0ffee);
    const seedList = seeds();
    const pool = seedList.map((x) => x.bytes);
    const unexpected: string[] = [];
    const codes = new Map<string, number>();
    let ok = 0;
    const N = 120_000;
    const started = Date.now();
    for (let n = 0; n < N; n++) {
      const seed = seedList[next() % seedList.length];
      const t: Target = n % 7 === 0 ? targets[next() % targets.length] : seed;
      let input: Uint8Array;
      if (n % 10 === 0) {
        input = Uint8Array.from({ length: next() % 64 }, () => next() & 0xff);
      } else {
        let b = seed.bytes;
        const rounds = next() % 3;
        for (let i = 0; i < rounds; i++) b = mutate(b, next, pool);
        input = b;
      }
      try {
        const v = decode(t.sig, input, t.ctx);
        ok++;
        if (t.reencode) encode(t.sig, v, t.ctx);
      } catch (e) {
        if (e instanceof WireError && typeof e.code === "string" && e.code.startsWith("QI_ERR_WIRE_")) {
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        } else if (unexpected.length < 10) {
          unexpected.push(
            `${t.sig.slice(0, 20)} ${Buffer.from(input).toString("hex").slice(0, 200)}: ${String(e)}`,
          );
        }
      }
      // MetaObject decoder proper
      if (n % 4 === 0) {
        try {
          decodeMetaObject(input);
        } catch (e) {
          if (!(e instanceof WireError) && unexpected.length < 10)
            unexpected.push(`decodeMetaObject: ${String(e)}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    if (process.env.FUZZ_STATS) console.log({ ok, ms: Date.now() - started, codes });
    // The fuzzer exercised both paths and the main error kinds.
    expect(ok).toBeGreaterThan(1000);
    for (const code of [
      "QI_ERR_WIRE_TRUNCATED",
      "QI_ERR_WIRE_COUNT_TOO_LARGE",
      "QI_ERR_WIRE_TRAILING_BYTES",
      "QI_ERR_WIRE_SIGNATURE_INVALID",
    ]) {
      expect(codes.get(code) ?? 0).toBeGreaterThan(0);
    }
  });

  it("offsets of errors lie within the input", () => {
    const next = rng(42);
    const pool = seeds().map((x) => x.bytes);
    for (let n = 0; n < 5_000; n++) {
      const input = mutate(pool[next() % pool.length], next, pool);
      try {
        decode("m", input);
      } catch (e) {
        const off = (e as WireError).offset;
        if (off !== undefined && (off < 0 || off > input.length)) {
          throw new Error(`offset ${off} outside input of ${input.length} bytes: ${String(e)}`);
        }
      }
    }
  });
});

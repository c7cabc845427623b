/**
 * MetaObject wire form (spec §3.1) and lookup helpers.
 *
 * Strings inside a MetaObject are decoded leniently (invalid UTF-8 → U+FFFD): names and
 * signatures are ASCII in practice, and a stray Latin-1 description must not make a whole
 * object unusable.
 */
import { WireError } from "./errors.js";
import type {
  MetaMethod,
  MetaMethodParameter,
  MetaObject,
  MetaProperty,
  MetaSignal,
} from "./metaobject-types.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

export const META_OBJECT_SIGNATURE =
  "({I(Issss[(ss)<MetaMethodParameter,name,description>]s)<MetaMethod,uid,returnSignature,name,parametersSignature,description,parameters,returnDescription>}{I(Iss)<MetaSignal,uid,name,signature>}{I(Iss)<MetaProperty,uid,name,signature>}s)<MetaObject,methods,signals,properties,description>";

// Minimum encoded sizes used to bound counts: map key (4) + member.
const METHOD_ENTRY_MIN = 4 + 4 + 4 * 4 + 4 + 4;
const PARAMETER_MIN = 8;
const SIGNAL_ENTRY_MIN = 4 + 4 + 4 + 4;

export function emptyMetaObject(): MetaObject {
  return { methods: new Map(), signals: new Map(), properties: new Map(), description: "" };
}

export function encodeMetaObject(mo: MetaObject): Uint8Array;
export function encodeMetaObject(mo: MetaObject, writer: Writer): void;
export function encodeMetaObject(mo: MetaObject, writer?: Writer): Uint8Array | undefined {
  const w = writer ?? new Writer(1024);
  w.u32(mo.methods.size);
  for (const [key, m] of mo.methods) {
    w.u32(key);
    w.u32(m.uid);
    w.string(m.returnSignature);
    w.string(m.name);
    w.string(m.parametersSignature);
    w.string(m.description);
    w.u32(m.parameters.length);
    for (const p of m.parameters) {
      w.string(p.name);
      w.string(p.description);
    }
    w.string(m.returnDescription);
  }
  w.u32(mo.signals.size);
  for (const [key, s] of mo.signals) {
    w.u32(key);
    w.u32(s.uid);
    w.string(s.name);
    w.string(s.signature);
  }
  w.u32(mo.properties.size);
  for (const [key, p] of mo.properties) {
    w.u32(key);
    w.u32(p.uid);
    w.string(p.name);
    w.string(p.signature);
  }
  w.string(mo.description);
  return writer === undefined ? w.finish() : undefined;
}

/**
 * Decodes a MetaObject. Given a Reader, reads one MetaObject from its position; given bytes,
 * the whole input must be one MetaObject (ERR_TRAILING_BYTES otherwise).
 */
export function decodeMetaObject(input: Reader | Uint8Array): MetaObject {
  const r = input instanceof Reader ? input : new Reader(input);
  const methods = new Map<number, MetaMethod>();
  let n = r.count(METHOD_ENTRY_MIN);
  for (let i = 0; i < n; i++) {
    const key = r.u32();
    const uid = r.u32();
    const returnSignature = r.lossyText();
    const name = r.lossyText();
    const parametersSignature = r.lossyText();
    const description = r.lossyText();
    const pn = r.count(PARAMETER_MIN);
    const parameters: MetaMethodParameter[] = new Array(pn);
    for (let j = 0; j < pn; j++) parameters[j] = { name: r.lossyText(), description: r.lossyText() };
    const returnDescription = r.lossyText();
    methods.set(key, {
      uid,
      returnSignature,
      name,
      parametersSignature,
      description,
      parameters,
      returnDescription,
    });
  }
  const signals = new Map<number, MetaSignal>();
  n = r.count(SIGNAL_ENTRY_MIN);
  for (let i = 0; i < n; i++) {
    const key = r.u32();
    signals.set(key, { uid: r.u32(), name: r.lossyText(), signature: r.lossyText() });
  }
  const properties = new Map<number, MetaProperty>();
  n = r.count(SIGNAL_ENTRY_MIN);
  for (let i = 0; i < n; i++) {
    const key = r.u32();
    properties.set(key, { uid: r.u32(), name: r.lossyText(), signature: r.lossyText() });
  }
  const description = r.lossyText();
  if (!(input instanceof Reader)) r.expectEnd();
  return { methods, signals, properties, description };
}

/** Methods called `name`, ordered by uid (overloads share a name). */
export function methodsByName(mo: MetaObject, name: string): MetaMethod[] {
  const out: MetaMethod[] = [];
  for (const m of mo.methods.values()) if (m.name === name) out.push(m);
  return out.sort((a, b) => a.uid - b.uid);
}

/**
 * Resolves `name` or `name::(sig)` like libqi: with a signature, the method with that exact
 * name and parameters signature; without, the method of that name if it is not overloaded.
 * Returns undefined when nothing (or, for a bare overloaded name, more than one) matches.
 */
export function findMethod(mo: MetaObject, nameOrNameWithSig: string): MetaMethod | undefined {
  const sep = nameOrNameWithSig.indexOf("::");
  if (sep >= 0) {
    const name = nameOrNameWithSig.slice(0, sep);
    const sig = nameOrNameWithSig.slice(sep + 2);
    for (const m of mo.methods.values()) if (m.name === name && m.parametersSignature === sig) return m;
    return undefined;
  }
  const found = methodsByName(mo, nameOrNameWithSig);
  return found.length === 1 ? found[0] : undefined;
}

export function findSignal(mo: MetaObject, name: string): MetaSignal | undefined {
  for (const s of mo.signals.values()) if (s.name === name) return s;
  return undefined;
}

export function findProperty(mo: MetaObject, name: string): MetaProperty | undefined {
  for (const p of mo.properties.values()) if (p.name === name) return p;
  return undefined;
}

/**
 * Sender side of the MetaObject cache (spec §2.6), one per socket and direction: ids count
 * from 1, and a MetaObject identical to one already sent is referenced by its id.
 */
export class MetaObjectSendCache {
  private readonly ids = new Map<string, number>();
  private next = 1;

  /** The cache id for `mo` and whether it must be transmitted (first time it goes out). */
  lookup(mo: MetaObject): { id: number; transmit: boolean } {
    const bytes = encodeMetaObject(mo);
    // latin1 key of the exact bytes: identical MetaObjects share an id.
    let key = "";
    for (let i = 0; i < bytes.length; i += 8192) {
      key += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
    }
    const known = this.ids.get(key);
    if (known !== undefined) return { id: known, transmit: false };
    if (this.next > 0xfffffffe) throw new WireError("ERR_UNSERIALIZABLE", "MetaObject cache ids exhausted");
    const id = this.next++;
    this.ids.set(key, id);
    return { id, transmit: true };
  }
}

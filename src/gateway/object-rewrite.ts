/**
 * The gateway forwards payloads untouched unless they may hold object references (spec §2.6):
 * those are decoded, every reference is swapped for the address the other side must use, and
 * the payload is re-encoded for the other connection (whose ObjectPtrUID may differ).
 */
import type { CodecContext } from "../wire/codec.js";
import { decode, encode } from "../wire/codec.js";
import { parseSignature, type SigNode, signatureContains } from "../wire/signature.js";
import { ObjectRef } from "../wire/values.js";

const objectBearing = new Map<string, boolean>();

/** True when a value of this signature can contain an object (`o`, or a dynamic that might). */
export function mayContainObject(signature: string): boolean {
  let known = objectBearing.get(signature);
  if (known === undefined) {
    try {
      known = nodeMayContainObject(parseSignature(signature));
    } catch {
      known = false; // an unparsable signature: the payload is forwarded as it is
    }
    if (objectBearing.size > 4096) objectBearing.clear();
    objectBearing.set(signature, known);
  }
  return known;
}

function nodeMayContainObject(node: SigNode): boolean {
  return signatureContains(node, (code) => code === "o" || code === "m");
}

/**
 * Decodes `payload` by `signature` with `from`'s settings, maps every object reference with
 * `mapRef`, and re-encodes for `to`. Returns the original bytes when no reference was inside
 * and both sides encode objects alike.
 */
export function rewriteObjects(
  payload: Uint8Array,
  signature: string,
  from: CodecContext,
  to: CodecContext,
  mapRef: (ref: ObjectRef) => ObjectRef,
): Uint8Array {
  if (!mayContainObject(signature)) return payload;
  let found = false;
  const value = decode(signature, payload, {
    ...from,
    importObject: (ref) => {
      found = true;
      return mapRef(ref);
    },
  });
  if (!found) return payload;
  return encode(signature, value, { ...to, exportObject: (v) => v as ObjectRef });
}

export { ObjectRef };

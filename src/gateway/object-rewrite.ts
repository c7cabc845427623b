/**
 * The gateway forwards payloads untouched unless they may hold object references (spec §2.6):
 * those are decoded, every reference is swapped for the address the other side must use, and
 * the payload is re-encoded for the other connection (whose ObjectPtrUID may differ).
 */
import type { CodecContext } from "../wire/index.js";
import { decode, encode } from "../wire/index.js";
import { mayContainObject } from "../wire/index.js";
import { ObjectRef } from "../wire/index.js";

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

/**
 * What the codec needs to know about the connection it encodes for or decodes from
 * (capabilities, object hooks, limits), shared by encode.ts and decode.ts.
 */
import type { MetaObject } from "./metaobject-types.js";
import type { MetaObjectSendCache } from "./metaobject.js";
import type { ObjectRef } from "./values.js";

export interface CodecContext {
  /** Shared ObjectPtrUID capability: 20 raw uid bytes follow serviceId/objectId in `o`. */
  objectUid?: boolean;
  /**
   * Shared MetaObjectCache capability: when set, `o` uses the cache format (spec §2.6).
   * `send` is needed to encode objects, `receive` (id → MetaObject, per socket) to decode.
   */
  metaObjectCache?: { send?: MetaObjectSendCache; receive?: Map<number, MetaObject> };
  /** Invalid UTF-8 in `s` throws ERR_BAD_UTF8 instead of decoding to a ByteString. */
  strictUtf8?: boolean;
  /** Maximum nesting of containers and dynamics (default 64) → ERR_DEPTH_EXCEEDED. */
  maxDepth?: number;
  /** Turns a value that is not an ObjectRef into one when encoding `o` (the object layer). */
  exportObject?: (value: unknown) => ObjectRef;
  /** Applied to every decoded `o` (e.g. to build a proxy). */
  importObject?: (ref: ObjectRef) => unknown;
  /** Root label of value paths in ERR_VALUE_MISMATCH messages (default "arg"). */
  pathRoot?: string;
}

export const DEFAULT_MAX_DEPTH = 64;
/** The context of a plain encode/decode (no capabilities, no object hooks). */
export const NO_CONTEXT: CodecContext = {};
/** Bytes of an object uid (ObjectPtrUID capability). */
export const UID_SIZE = 20;

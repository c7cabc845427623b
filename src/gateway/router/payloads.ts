/**
 * What the router needs to know of a payload: which signature it is read by (the member's
 * declared one, a dynamic, with or without a ReturnType), and, only when that signature may
 * hold object references (spec §2.6), its re-encoding with every reference mapped. A payload
 * without references is never decoded: it is forwarded as the bytes that came in.
 */
import { Capability, type Connection } from "../../connection/index.js";
import { NETWORK_MEMBER_PARAMS, requestSignature } from "../../object/index.js";
import {
  type CodecContext,
  convertValue,
  Dynamic,
  decode,
  encode,
  type Message,
  MessageFlags,
  type MetaObject,
  mayContainObject,
  type ObjectRef,
} from "../../wire/index.js";
import { rewriteObjects } from "../object-rewrite.js";

export function ctxOf(conn: Connection): CodecContext {
  return { objectUid: conn.shared(Capability.ObjectPtrUID) };
}

/** The arguments' signature of member `action` (a method, a signal emitted, a property set). */
export function parametersOf(meta: MetaObject, action: number): string | undefined {
  const params =
    meta.methods.get(action)?.parametersSignature ??
    meta.signals.get(action)?.signature ??
    NETWORK_MEMBER_PARAMS[action];
  if (params !== undefined) return params;
  const property = meta.properties.get(action);
  return property && `(${property.signature})`;
}

export function returnOf(meta: MetaObject, action: number): string | undefined {
  return meta.methods.get(action)?.returnSignature;
}

/**
 * The signature a request's payload is read by. Whatever the flags, it is the one the
 * service declares (or a dynamic, whose objects are read too): no flag lets an object
 * reference pass unmapped. Undefined: an unknown member without DynamicPayload, passed as is.
 */
export function requestPayloadSignature(meta: MetaObject, msg: Message): string | undefined {
  const params = parametersOf(meta, msg.action);
  if (msg.flags === 0) return params;
  if (params === undefined && !(msg.flags & MessageFlags.DynamicPayload)) return undefined;
  return requestSignature(params ?? "m", msg.flags);
}

/** The signature of a Reply to member `action`. */
export function replyPayloadSignature(meta: MetaObject, action: number, reply: Message): string | undefined {
  return reply.flags & MessageFlags.DynamicPayload ? "m" : returnOf(meta, action);
}

/**
 * `payload` (read on `from` by `signature`) as `to` must receive it, every object reference
 * mapped by `mapRef`. The fast path, a signature without objects, allocates nothing.
 */
export function mapObjects(
  payload: Uint8Array,
  signature: string | undefined,
  from: Connection,
  to: Connection,
  mapRef: (ref: ObjectRef) => ObjectRef,
): Uint8Array {
  if (signature === undefined || !mayContainObject(signature)) return payload;
  return rewriteObjects(payload, signature, ctxOf(from), ctxOf(to), mapRef);
}

/**
 * An event for a registerEventWithSignature subscriber: a dynamic of the signature it asked
 * for (spec §5.6), as a service host sends it; undefined when this value does not convert.
 */
export function convertEvent(
  payload: Uint8Array,
  sig: string,
  wanted: string,
  ctx: CodecContext,
): Uint8Array | undefined {
  try {
    const value = decode(sig, payload, { ...ctx, importObject: (ref) => ref });
    const from = value instanceof Dynamic && sig === "m" ? value.signature : sig;
    const inner = value instanceof Dynamic && sig === "m" ? value.value : value;
    return encode("m", new Dynamic(wanted, convertValue(inner, from, wanted)), {
      ...ctx,
      exportObject: (v) => v as ObjectRef,
    });
  } catch {
    return undefined;
  }
}

/**
 * What every forwarder of requests between two connections does the same way (PassedOnProxy,
 * the gateway's ExternalService): which signature a forwarded payload has, passing objects on
 * from one connection's object state to the other's (spec §5.7), and answering the caller
 * with the forwarded call's outcome.
 */
import type { Connection } from "../connection/index.js";
import { errorText } from "../connection/connection.js";
import { isQiError, QiError } from "../connection/errors.js";
import { type CodecContext, decode, encode } from "../wire/index.js";
import { type Message, MessageFlags } from "../wire/index.js";
import type { MetaObject } from "../wire/index.js";
import { mayContainObject } from "../wire/index.js";
import { NETWORK_MEMBER_PARAMS, Reserved } from "./reserved.js";

/**
 * The signature of a forwarded request's whole payload; undefined when the member is unknown.
 * Every flag is accounted for, so no flag lets an object reference pass unseen (issue 10):
 * DynamicPayload makes the arguments one dynamic (whose objects are read too), ReturnType
 * appends the wanted return signature as a string (spec §1.4). A tuple is encoded as the
 * concatenation of its members, so wrapping both in one tuple reads the same bytes.
 */
export function forwardedParams(meta: MetaObject, msg: Message): string | undefined {
  const params = meta.methods.get(msg.action)?.parametersSignature ?? NETWORK_MEMBER_PARAMS[msg.action];
  return params === undefined ? undefined : requestSignature(params, msg.flags);
}

/** `params` as the payload of a request with these flags carries them (see forwardedParams). */
export function requestSignature(params: string, flags: number): string {
  const args = flags & MessageFlags.DynamicPayload ? "m" : params;
  return flags & MessageFlags.ReturnType ? `(${args}s)` : args;
}

/** The signature of the reply to a forwarded call of member `action`. */
export function forwardedReturns(meta: MetaObject, action: number, reply: Message): string | undefined {
  if (reply.flags & MessageFlags.DynamicPayload) return "m";
  return meta.methods.get(action)?.returnSignature ?? (action === Reserved.property ? "m" : undefined);
}

/** The signature of the events of a signal or property (a one-member tuple of its value). */
export function eventSignatureOf(meta: MetaObject, uid: number): string | undefined {
  const signal = meta.signals.get(uid);
  if (signal) return signal.signature;
  const property = meta.properties.get(uid);
  return property && `(${property.signature})`;
}

/**
 * Re-encodes a payload read on one connection for another: object references inside become
 * proxies of the first side, passed on to the second. Untouched when the signature cannot
 * hold an object.
 */
export function passOn(
  signature: string,
  payload: Uint8Array,
  from: CodecContext | undefined,
  to: CodecContext | undefined,
): Uint8Array {
  if (!mayContainObject(signature)) return payload;
  if (!from || !to) throw new QiError("ERR_REMOTE", "objects cannot be passed on over this connection");
  return encode(signature, decode(signature, payload, from), to);
}

/**
 * Answers `msg` on `from` once the forwarded call settles: its Reply (re-encoded by
 * `passBack`, whose error becomes an Error reply), Error or Canceled. `settled` runs first,
 * whatever the outcome; nothing is sent to a caller that left.
 */
export function answerForwarded(
  msg: Message,
  from: Connection,
  answer: Promise<Message>,
  passBack: (reply: Message) => Uint8Array,
  settled: () => void,
): void {
  answer.then(
    (reply) => {
      settled();
      if (from.isClosed) return;
      let out: Uint8Array;
      try {
        out = passBack(reply);
      } catch (e) {
        from.replyError(msg, errorText(e));
        return;
      }
      from.reply(msg, out, reply.flags);
    },
    (e) => {
      settled();
      if (from.isClosed) return;
      if (isQiError(e, "ERR_CANCELED")) from.replyCanceled(msg);
      else from.replyError(msg, errorText(e));
    },
  );
}

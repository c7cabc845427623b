/**
 * Ctrl-C on `qi call` (issue 11): the first one sends a Cancel and waits, bounded, for what the
 * callee really did — a Cancel is a request, and only the callee's answer says whether the robot
 * stopped (Canceled) or the method ran to its end (its result). A second Ctrl-C exits at once.
 */
import { Capability, isQiError, QiError } from "../connection/index.js";
import type { RemoteObject } from "../object/index.js";
import { type Dynamic, decode, encode, type Message, MessageFlags, MessageType } from "../wire/index.js";
import { failure } from "./errors.js";
import type { PreparedCall } from "./member-call.js";

/** How long the first Ctrl-C waits for the callee's answer to the Cancel. */
export const CANCEL_WAIT_MS = 5_000;

/** Exit codes of a `qi call` interrupted by Ctrl-C (documented in docs/resilience.md). */
export const InterruptExit = {
  /** The callee answered Canceled: the method stopped. */
  Stopped: 4,
  /** The callee ignored the Cancel and returned its result (printed). */
  RanToEnd: 5,
  /** No answer within CANCEL_WAIT_MS, or the connection ended: the method may still run. */
  Unknown: 6,
  /** A second Ctrl-C (or one before the call was sent): no waiting. */
  Quit: 130,
} as const;

/** What the call came to once it was interrupted. */
export type InterruptedOutcome =
  | { status: "returned"; value: unknown }
  | { status: "failed"; error: Error }
  | { status: "canceled" }
  | { status: "unknown"; why: string };

/**
 * Calls with `signal` wired to a Cancel; the promise settles with what the callee answered,
 * even after an abort (its result, its error, or an ERR_CANCELED QiError when it stopped).
 */
export function invokeWithOutcome(
  obj: RemoteObject,
  p: PreparedCall,
  signal: AbortSignal,
  timeoutMs: number | undefined,
): Promise<unknown> {
  if (p.args)
    return obj.invoke(`${p.method.name}::${p.method.parametersSignature}`, p.args, {
      signal,
      outcome: "wait",
      timeoutMs,
    });
  return dynamicWithOutcome(obj, p, signal, timeoutMs);
}

/** The arguments as one DynamicPayload (what member-call.ts sends), with the same cancel rule. */
function dynamicWithOutcome(
  obj: RemoteObject,
  p: PreparedCall,
  signal: AbortSignal,
  timeoutMs: number | undefined,
): Promise<unknown> {
  const conn = obj.peer.conn;
  if (conn.remoteCapabilities.get(Capability.MessageFlags) !== true)
    return Promise.reject(
      failure(
        `the arguments do not convert to ${p.method.name}${p.method.parametersSignature} and the peer does not accept dynamic arguments`,
        "arguments of the types the signature asks for",
      ),
    );
  const ctx = obj.peer.codecContext(obj.serviceId, "client");
  const decodeReply = (reply: Message): unknown => {
    if (reply.flags & MessageFlags.DynamicPayload) return (decode("m", reply.payload, ctx) as Dynamic).value;
    if (p.method.returnSignature === "v" && reply.payload.byteLength === 0) return undefined;
    return decode(p.method.returnSignature, reply.payload, ctx);
  };
  const { id, answer } = conn.startCall(
    { service: obj.serviceId, object: obj.objectId, action: p.method.uid },
    encode("m", p.dynamic, ctx),
    { flags: MessageFlags.DynamicPayload, timeoutMs },
  );
  return new Promise((resolve, reject) => {
    let abandoned = false;
    const onAbort = () => {
      abandoned = true;
      conn.onClose((reason) =>
        reject(new QiError("ERR_DISCONNECTED", `outcome of ${p.method.name} unknown: ${reason.message}`)),
      );
      conn.cancelCall(id, new QiError("ERR_CANCELED", `${p.method.name} canceled`), (late) => {
        if (late.type === MessageType.Reply) resolve(decodeReply(late));
        else if (late.type === MessageType.Error)
          reject(new QiError("ERR_REMOTE", errorText(late), { remote: true, peer: conn.peer }));
        else reject(new QiError("ERR_CANCELED", `${p.method.name}: the callee stopped on the cancel`));
      });
    };
    signal.addEventListener("abort", onAbort, { once: true });
    answer.then(
      (m) => {
        signal.removeEventListener("abort", onAbort);
        try {
          resolve(decodeReply(m));
        } catch (e) {
          reject(e);
        }
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        if (!abandoned) reject(e);
      },
    );
  });
}

function errorText(m: Message): string {
  try {
    const d = decode("m", m.payload) as Dynamic;
    return String(d.value);
  } catch {
    return "unreadable error";
  }
}

/** The callee's answer after the Cancel, or "unknown" when none came within `waitMs`. */
export async function outcomeAfterCancel(
  real: Promise<unknown>,
  waitMs: number,
): Promise<InterruptedOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<InterruptedOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: "unknown", why: `no answer within ${waitMs / 1000} s of the Cancel` }),
      waitMs,
    );
  });
  const answered = real.then(
    (value): InterruptedOutcome => ({ status: "returned", value }),
    (error: Error): InterruptedOutcome => {
      if (isQiError(error, "ERR_CANCELED")) return { status: "canceled" };
      if (isQiError(error, "ERR_DISCONNECTED") || isQiError(error, "ERR_CLOSED"))
        return { status: "unknown", why: `the connection ended (${error.message})` };
      return { status: "failed", error };
    },
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

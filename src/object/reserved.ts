/**
 * The members every exported object has (spec §3.2): 0–8 handled per connection by the
 * host, 80–86 (stats and trace) by the object itself. User members start at 100.
 */
import type { Connection } from "../connection/index.js";
import { decode } from "../wire/index.js";
import { type Message, MessageFlags } from "../wire/index.js";
import type { MetaMethod, MetaSignal } from "../wire/index.js";
import type { Dynamic } from "../wire/index.js";

export const Reserved = {
  registerEvent: 0,
  unregisterEvent: 1,
  metaObject: 2,
  terminate: 3,
  property: 5,
  setProperty: 6,
  properties: 7,
  registerEventWithSignature: 8,
  isStatsEnabled: 80,
  enableStats: 81,
  stats: 82,
  clearStats: 83,
  isTraceEnabled: 84,
  enableTrace: 85,
  traceObject: 86,
} as const;

export const FIRST_USER_MEMBER = 100;

/** The arguments of registerEvent, registerEventWithSignature and unregisterEvent. */
export interface SubscriptionArgs {
  service: number;
  signal: number;
  link: bigint;
  /** registerEventWithSignature: the signature the subscriber wants the events in. */
  wanted: string | undefined;
}

/** Tells a host we no longer hold one of its objects: libqi posts `terminate(serviceId)` (spec §3.2). */
export function postTerminate(conn: Connection, service: number, object: number): void {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, service, true);
  conn.post({ service, object, action: Reserved.terminate }, payload);
}

/** Reads a (un)registerEvent request, sent plainly or as a DynamicPayload (spec §1.4, §5.6). */
export function subscriptionArgs(msg: Message): SubscriptionArgs {
  const withSignature = msg.action === 8; // registerEventWithSignature
  const args = (
    msg.flags & MessageFlags.DynamicPayload
      ? (decode("m", msg.payload) as Dynamic).value
      : decode(withSignature ? "(IILs)" : "(IIL)", msg.payload)
  ) as unknown[];
  if (!Array.isArray(args) || args.length < 3) throw new RangeError("malformed subscription arguments");
  return {
    service: Number(args[0]),
    signal: Number(args[1]),
    link: BigInt(args[2] as bigint | number),
    wanted: withSignature && args[3] !== undefined ? String(args[3]) : undefined,
  };
}

/** Parameter signatures of members 0–8 (spec §3.2), for reading requests to them. */
export const NETWORK_MEMBER_PARAMS: Readonly<Record<number, string>> = {
  0: "(IIL)",
  1: "(IIL)",
  2: "(I)",
  3: "(I)",
  5: "(m)",
  6: "(mm)",
  7: "()",
  8: "(IILs)",
};

const MIN_MAX_SUM = "(fff)<MinMaxSum,minValue,maxValue,cumulatedValue>";
export const METHOD_STATISTICS_SIGNATURE = `(I${MIN_MAX_SUM}${MIN_MAX_SUM}${MIN_MAX_SUM})<MethodStatistics,count,wall,user,system>`;
export const STATS_SIGNATURE = `{I${METHOD_STATISTICS_SIGNATURE}}`;
export const EVENT_TRACE_SIGNATURE =
  "(IiIm(ll)<timeval,tv_sec,tv_usec>llII)<EventTrace,id,kind,slotId,arguments,timestamp,userUsTime,systemUsTime,callerContext,calleeContext>";
export const TRACE_SIGNAL_SIGNATURE = `(${EVENT_TRACE_SIGNATURE})`;

export const TraceKind = { Call: 1, Result: 2, Error: 3, Signal: 4 } as const;

function method(uid: number, name: string, params: string, returns: string): MetaMethod {
  return {
    uid,
    returnSignature: returns,
    name,
    parametersSignature: params,
    description: "",
    parameters: [],
    returnDescription: "",
  };
}

/** Members 0–8 (what the network layer adds to every object it serves). */
export function networkMethods(metaObjectSignature: string): MetaMethod[] {
  return [
    method(0, "registerEvent", "(IIL)", "L"),
    method(1, "unregisterEvent", "(IIL)", "v"),
    method(2, "metaObject", "(I)", metaObjectSignature),
    method(3, "terminate", "(I)", "v"),
    method(5, "property", "(m)", "m"),
    method(6, "setProperty", "(mm)", "v"),
    method(7, "properties", "()", "[s]"),
    method(8, "registerEventWithSignature", "(IILs)", "L"),
  ];
}

/** Members 80–86 (libqi's Manageable). */
export function manageableMethods(): MetaMethod[] {
  return [
    method(80, "isStatsEnabled", "()", "b"),
    method(81, "enableStats", "(b)", "v"),
    method(82, "stats", "()", STATS_SIGNATURE),
    method(83, "clearStats", "()", "v"),
    method(84, "isTraceEnabled", "()", "b"),
    method(85, "enableTrace", "(b)", "v"),
  ];
}

export function manageableSignals(): MetaSignal[] {
  return [{ uid: 86, name: "traceObject", signature: TRACE_SIGNAL_SIGNATURE }];
}

/**
 * Serving one request (Call or Post) on a local object: reserved members 0–8 and 80–85,
 * user methods under the dispatch policy, signal triggers by Post (spec §5.4), argument
 * decoding with DynamicPayload and ReturnType (spec §1.4), stats and trace.
 */
import { Capability } from "../connection/capabilities.js";
import { errorText } from "../connection/connection.js";
import { isQiError, QiError } from "../connection/errors.js";
import { isDispatchError } from "../dispatch/index.js";
import { decode, decodeFrom, encode } from "../wire/index.js";
import { convertValue } from "../wire/index.js";
import { inferSignature } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import { META_OBJECT_SIGNATURE } from "../wire/index.js";
import { Reader } from "../wire/index.js";
import { parseSignature } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import { addressKey } from "../connection/connection.js";
import type { PeerObjects } from "./peer.js";
import type { CallContext, MethodEntry, QiObject } from "./qi-object.js";
import type { Connection } from "../connection/index.js";
import { NETWORK_MEMBER_PARAMS, Reserved, STATS_SIGNATURE, TraceKind } from "./reserved.js";
import { isThenable } from "../dispatch/index.js";

const INVALID_LINK = 0xffffffffffffffffn;
const EMPTY = new Uint8Array(0);
let nextServerLink = 1n;

interface DecodedArgs {
  args: unknown[];
  /** Signature the caller wants the result in (ReturnType flag). */
  wantedReturn: string | undefined;
}

/**
 * Serves one request. Returns at once when the answer is already sent (reserved members, and
 * methods that return a value: the common case costs no promise), or a promise that settles
 * once a method that returned a promise has been answered.
 */
export function invokeRequest(peer: PeerObjects, target: QiObject, msg: Message): void | Promise<void> {
  const action = msg.action;
  if (action < 80 && isNetworkMember(action)) {
    serveNetworkMember(peer, target, msg);
    return;
  }
  if (action >= 80 && action <= 85) {
    serveManageable(peer, target, msg);
    return;
  }
  const entry = target.methodEntry(action);
  if (!entry) {
    if (msg.type === MessageType.Post && target.signalMeta(action)) {
      // A Post on a signal id triggers the signal on the real object (spec §5.4).
      const sig = target.signalMeta(action)!.signature;
      target.emitById(action, decodeArgs(peer, msg, sig).args);
      return;
    }
    if (msg.type === MessageType.Call) {
      peer.conn.replyError(msg, `No such method {${msg.service}.${msg.object}.${action}, id:${msg.id}}`);
    }
    return;
  }
  const meta = entry.meta;
  if (msg.type === MessageType.Call && peer.inflight.size >= peer.maxServedCalls) {
    // A flood of calls that do not finish: refuse, rather than queue without bound.
    peer.conn.replyError(
      msg,
      `Too many calls in progress on this connection (limit ${peer.maxServedCalls}).`,
    );
    return;
  }
  let decoded: DecodedArgs;
  try {
    decoded = decodeArgs(peer, msg, meta.parametersSignature);
  } catch (e) {
    if (msg.type === MessageType.Call) {
      peer.conn.replyError(
        msg,
        `Arguments do not match ${meta.name}::${meta.parametersSignature}: ${errorText(e)}`,
      );
    }
    return;
  }
  return new ServedRequest(peer, target, msg, entry, decoded).start();
}

/** One call (or post) of a user method being served: runs it, answers it once. */
class ServedRequest {
  private readonly served = new ServedCall();
  private readonly isCall: boolean;
  private answered = false;
  private readonly traceId: number;
  private readonly wallStart: number;
  private readonly cpuStart: NodeJS.CpuUsage | undefined;

  constructor(
    private readonly peer: PeerObjects,
    private readonly target: QiObject,
    private readonly msg: Message,
    private readonly entry: MethodEntry,
    private readonly decoded: DecodedArgs,
  ) {
    this.isCall = msg.type === MessageType.Call;
    this.traceId = target.isTraceEnabled ? target.trace(TraceKind.Call, msg.action, decoded.args) : 0;
    this.wallStart = performance.now();
    this.cpuStart = target.isStatsEnabled ? process.cpuUsage() : undefined;
  }

  start(): void | Promise<void> {
    const { peer, target, entry } = this;
    const dispatcher = peer.dispatcher;
    const context = new ServedContext(this.served, peer.conn);
    // The common case (async mode, no strand, no pool, no timeout) runs the method now, and a
    // method that returns a value is answered before this returns: no promise, no task record
    // (a quarter of a small call's cost went there). Everything else goes through run().
    const direct =
      dispatcher.mode === "async" &&
      target.strand === undefined &&
      entry.pool === undefined &&
      peer.callTimeoutMs === undefined;
    if (direct) {
      let result: unknown;
      try {
        result = dispatcher.runNow(entry.impl!, context, this.decoded.args);
      } catch (e) {
        this.fail(e);
        return;
      }
      if (!isThenable(result)) {
        this.succeed(result);
        return;
      }
      this.track(false);
      return Promise.resolve(result).then(
        (v) => this.succeed(v),
        (e) => this.fail(e),
      );
    }
    // Sync mode, strands and the pool need a signal up front: the task may wait or run elsewhere.
    this.track(true);
    const runOptions = {
      strand: target.strand,
      signal: this.served.signal,
      timeoutMs: peer.callTimeoutMs,
      label: entry.meta.name,
    };
    const args = this.decoded.args;
    const running = entry.pool
      ? dispatcher.runOnPool(entry.pool.module, entry.pool.export, args, runOptions)
      : dispatcher.run(() => entry.impl!.apply(context, args), runOptions);
    return running.then(
      (v) => this.succeed(v),
      (e) => {
        // A timeout (or the dispatcher closing) ends the call here; the method learns it from
        // `this.signal`, which the dispatcher does not own.
        if (isDispatchError(e)) this.served.abort(e);
        this.fail(e);
      },
    );
  }

  /** A call that may still be running when a Cancel arrives: remembered by its message id. */
  private track(dispatcherAnswersCancel: boolean): void {
    if (!this.isCall) return;
    const { peer, msg } = this;
    peer.inflight.set(msg.id, this.served);
    if (!dispatcherAnswersCancel) {
      // The method runs unsupervised: a Cancel is answered here at once (spec §5.5), the method
      // sees it only if it looks at `this.signal`.
      this.served.onAbort = () => {
        if (this.answered || peer.conn.isClosed) return;
        this.answered = true;
        peer.conn.replyCanceled(msg);
      };
    }
  }

  private done(): void {
    record(this.target, this.msg.action, this.wallStart, this.cpuStart);
    if (this.isCall) this.peer.inflight.delete(this.msg.id);
  }

  private succeed(result: unknown): void {
    this.done();
    const { peer, msg } = this;
    if (this.traceId) this.target.trace(TraceKind.Result, msg.action, result, this.traceId);
    if (!this.isCall || this.answered || peer.conn.isClosed) return;
    this.answered = true;
    sendResult(peer, msg, this.entry.meta.returnSignature, result, this.decoded.wantedReturn);
  }

  private fail(e: unknown): void {
    this.done();
    const { peer, msg } = this;
    if (this.traceId) this.target.trace(TraceKind.Error, msg.action, errorText(e), this.traceId);
    if (!this.isCall || this.answered || peer.conn.isClosed) return;
    this.answered = true;
    if (this.served.aborted && isCanceled(e)) peer.conn.replyCanceled(msg);
    else peer.conn.replyError(msg, errorText(e));
  }
}

/** What a method sees as `this`; its signal is made on first use. */
class ServedContext implements CallContext {
  readonly identity: string | undefined;
  readonly peer: string;

  constructor(
    private readonly served: ServedCall,
    readonly connection: Connection,
  ) {
    this.identity = connection.identity;
    this.peer = connection.peer;
  }

  get signal(): AbortSignal {
    return this.served.signal;
  }
}

/** The cancel handle of a call being served; its AbortController is made on first use. */
export class ServedCall {
  aborted = false;
  onAbort: (() => void) | undefined;
  private controller: AbortController | undefined;
  private reason: unknown;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onAbort?.();
  }
}

function isCanceled(e: unknown): boolean {
  return isDispatchError(e, "QI_ERR_DISPATCH_CANCELED") || isQiError(e, "QI_ERR_CANCELED");
}

function record(
  target: QiObject,
  uid: number,
  wallStart: number,
  cpuStart: NodeJS.CpuUsage | undefined,
): void {
  if (!cpuStart) return;
  const cpu = process.cpuUsage(cpuStart);
  target.recordCall(uid, (performance.now() - wallStart) / 1000, cpu.user / 1e6, cpu.system / 1e6);
}

/** Decodes a request's arguments into a JS array for the implementation. */
export function decodeArgs(peer: PeerObjects, msg: Message, paramsSig: string): DecodedArgs {
  const ctx = peer.codecContext(msg.service, "host");
  const dynamic = (msg.flags & MessageFlags.DynamicPayload) !== 0;
  const reader = new Reader(msg.payload);
  // With DynamicPayload the whole argument tuple travels inside one dynamic (spec §1.4); a
  // ReturnType string may follow either form.
  const value = decodeFrom(reader, parseSignature(dynamic ? "m" : paramsSig), ctx);
  let wantedReturn: string | undefined;
  if (msg.flags & MessageFlags.ReturnType)
    wantedReturn = decodeFrom(reader, parseSignature("s"), ctx) as string;
  if (reader.remaining !== 0)
    throw new QiError("ERR_BAD_ARGUMENTS", `${reader.remaining} unexpected bytes after the arguments`);
  if (dynamic) return { args: tupleToArgs(value as Dynamic, paramsSig), wantedReturn };
  if (paramsSig === "m") return { args: tupleToArgs(value as Dynamic, undefined), wantedReturn };
  return { args: asArray(value), wantedReturn };
}

function tupleToArgs(d: Dynamic, paramsSig: string | undefined): unknown[] {
  if (paramsSig === undefined || paramsSig === "m") return asArray(d.value);
  return asArray(convertValue(d.value, d.signature, paramsSig));
}

function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object" && "fields" in v)
    return Object.values((v as { fields: Record<string, unknown> }).fields);
  return v === undefined ? [] : [v];
}

function sendResult(
  peer: PeerObjects,
  msg: Message,
  returnSig: string,
  result: unknown,
  wanted: string | undefined,
): void {
  const ctx = peer.codecContext(msg.service, "host");
  if (wanted !== undefined && wanted !== returnSig) {
    // ReturnType: answer with a dynamic converted to what the caller asked for, if possible;
    // otherwise fall back silently to the advertised signature (spec §1.4).
    try {
      const converted = convertValue(result, returnSig, wanted);
      peer.conn.reply(msg, encode("m", new Dynamic(wanted, converted), ctx), MessageFlags.DynamicPayload);
      return;
    } catch {
      // fall through
    }
  }
  let payload: Uint8Array;
  try {
    payload = returnSig === "v" ? EMPTY : encode(returnSig, result, ctx);
  } catch (e) {
    if (
      !peer.conn.shared(Capability.MessageFlags) ||
      peer.conn.remoteCapabilities.get(Capability.MessageFlags) !== true
    ) {
      peer.conn.replyError(msg, `failed to convert the result to ${returnSig}: ${errorText(e)}`);
      return;
    }
    try {
      peer.conn.reply(
        msg,
        encode("m", new Dynamic(inferSignature(result), result), ctx),
        MessageFlags.DynamicPayload,
      );
    } catch {
      peer.conn.replyError(msg, `failed to convert the result to ${returnSig}: ${errorText(e)}`);
    }
    return;
  }
  peer.conn.reply(msg, payload);
}

function isNetworkMember(action: number): boolean {
  return action <= 8 && action !== 4;
}

function serveNetworkMember(peer: PeerObjects, target: QiObject, msg: Message): void {
  const conn = peer.conn;
  const reply = (sig: string, value: unknown) => {
    if (msg.type === MessageType.Call)
      conn.reply(msg, sig === "v" ? EMPTY : encode(sig, value, peer.codecContext(msg.service, "host")));
  };
  const fail = (text: string) => {
    if (msg.type === MessageType.Call) conn.replyError(msg, text);
  };
  try {
    const { args } = decodeArgs(peer, msg, NETWORK_MEMBER_PARAMS[msg.action]!);
    switch (msg.action) {
      case Reserved.registerEvent:
      case Reserved.registerEventWithSignature: {
        const signalUid = args[1] as number;
        const link = args[2] as bigint;
        const meta = target.signalMeta(signalUid);
        if (!meta) {
          fail(`Cannot find signal #${signalUid} on object {${msg.service}.${msg.object}}`);
          return;
        }
        const wanted = msg.action === Reserved.registerEventWithSignature ? (args[3] as string) : undefined;
        subscribe(peer, target, msg.service, msg.object, signalUid, meta.signature, link, wanted);
        // libqi's server link is (signal id << 32) | subscriber counter (the capture answers
        // 0x6b_00000013 for signal 107); clients ignore it, but keep the same shape.
        reply("L", (BigInt(signalUid) << 32n) | (nextServerLink++ & 0xffffffffn));
        return;
      }
      case Reserved.unregisterEvent: {
        const link = args[2] as bigint;
        if (link === INVALID_LINK) {
          reply("v", undefined);
          return;
        }
        const key = `${addressKey(msg.service, msg.object)}.${link}`;
        const sub = peer.subscriptions.get(key);
        if (!sub) {
          fail(`Unregister request failed for ${msg.service}.${msg.object} link ${link}`);
          return;
        }
        sub.unsubscribe();
        peer.subscriptions.delete(key);
        reply("v", undefined);
        return;
      }
      case Reserved.metaObject:
        reply(META_OBJECT_SIGNATURE, target.metaObject());
        return;
      case Reserved.terminate:
        if (msg.object !== 1) peer.unexport(msg.service, msg.object);
        reply("v", undefined);
        return;
      case Reserved.property: {
        const uid = target.propertyUid(args[0]);
        reply("m", new Dynamic(target.propertyMeta(uid)!.signature, target.propertyValueById(uid)));
        return;
      }
      case Reserved.setProperty: {
        const uid = target.propertyUid(args[0]);
        const sig = target.propertyMeta(uid)!.signature;
        const v = args[1];
        const value = v instanceof Dynamic ? (sig === "m" ? v : convertValue(v.value, v.signature, sig)) : v;
        target.setPropertyById(uid, value);
        reply("v", undefined);
        return;
      }
      case Reserved.properties:
        reply("[s]", target.propertyNames());
        return;
    }
  } catch (e) {
    fail(errorText(e));
  }
}

/** A peer's registerEvent: every emission goes to it as an Event (spec §5.6). */
function subscribe(
  peer: PeerObjects,
  target: QiObject,
  service: number,
  object: number,
  signalUid: number,
  signature: string,
  link: bigint,
  wanted: string | undefined,
): void {
  const key = `${addressKey(service, object)}.${link}`;
  peer.subscriptions.get(key)?.unsubscribe();
  const address = { service, object, action: signalUid };
  const unsubscribe = target.connect(signalUid, (args) => {
    if (peer.conn.isClosed) return;
    try {
      if (wanted !== undefined) {
        const converted = convertValue(args, signature, wanted);
        peer.conn.sendEvent(
          address,
          encode("m", new Dynamic(wanted, converted), peer.codecContext(service, "host")),
          MessageFlags.DynamicPayload,
        );
      } else {
        peer.conn.sendEvent(address, encodeEvent(peer, service, signature, args));
      }
    } catch {
      // Arguments that do not fit the signature go as a dynamic when the peer takes those
      // (libqi retries that way, spec §1.4); otherwise the emission is dropped for this
      // subscriber only.
      if (!peer.conn.shared(Capability.MessageFlags)) return;
      try {
        peer.conn.sendEvent(
          address,
          encode("m", new Dynamic(inferSignature(args), args), peer.codecContext(service, "host")),
          MessageFlags.DynamicPayload,
        );
      } catch {
        // not even as a dynamic: dropped
      }
    }
  });
  peer.subscriptions.set(key, { unsubscribe });
}

/**
 * Event payloads are encoded once per emission and shared by every subscriber whose
 * connection encodes objects the same way (fan-out to many clients costs one encode).
 */
const eventPayloads = new WeakMap<unknown[], Map<string, Uint8Array>>();

function encodeEvent(peer: PeerObjects, service: number, signature: string, args: unknown[]): Uint8Array {
  if (signature.includes("o")) return encode(signature, args, peer.codecContext(service, "host"));
  const uidFlag = peer.conn.shared(Capability.ObjectPtrUID) ? "1" : "0";
  const cacheKey = `${signature}|${uidFlag}`;
  let perArgs = eventPayloads.get(args);
  const cached = perArgs?.get(cacheKey);
  if (cached) return cached;
  const payload = encode(signature, args, peer.codecContext(service, "host"));
  if (!perArgs) {
    perArgs = new Map();
    eventPayloads.set(args, perArgs);
  }
  perArgs.set(cacheKey, payload);
  return payload;
}

function serveManageable(peer: PeerObjects, target: QiObject, msg: Message): void {
  const conn = peer.conn;
  const reply = (sig: string, value: unknown) => {
    if (msg.type === MessageType.Call) conn.reply(msg, sig === "v" ? EMPTY : encode(sig, value));
  };
  try {
    switch (msg.action) {
      case Reserved.isStatsEnabled:
        reply("b", target.isStatsEnabled);
        return;
      case Reserved.enableStats:
        target.enableStats((decode("(b)", msg.payload) as boolean[])[0]);
        reply("v", undefined);
        return;
      case Reserved.stats:
        reply(STATS_SIGNATURE, target.stats());
        return;
      case Reserved.clearStats:
        target.clearStats();
        reply("v", undefined);
        return;
      case Reserved.isTraceEnabled:
        reply("b", target.isTraceEnabled);
        return;
      case Reserved.enableTrace:
        target.enableTrace((decode("(b)", msg.payload) as boolean[])[0]);
        reply("v", undefined);
        return;
    }
  } catch (e) {
    if (msg.type === MessageType.Call) conn.replyError(msg, errorText(e));
  }
}

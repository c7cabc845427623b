/**
 * Serving one request (Call or Post) on a local object: user methods under the dispatch
 * policy, signal triggers by Post (spec §5.4), argument decoding with DynamicPayload and
 * ReturnType (spec §1.4), stats and trace. Reserved members 0–8 and 80–85 are served by
 * reserved-members.ts.
 */
import { Capability } from "../connection/capabilities.js";
import { errorText } from "../connection/connection.js";
import { isQiError } from "../connection/errors.js";
import { isDispatchError } from "../dispatch/index.js";
import { encode, encodePayload, type Payload, releasePayload } from "../wire/index.js";
import { convertValue } from "../wire/index.js";
import { inferSignature } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import { type DecodedArgs, decodeArgs } from "./call-args.js";
import type { PeerObjects } from "./peer.js";
import type { CallContext, MethodEntry, QiObject } from "./qi-object.js";
import type { Connection } from "../connection/index.js";
import { TraceKind } from "./reserved.js";
import { serveManageable, serveNetworkMember } from "./reserved-members.js";
import { isThenable } from "../dispatch/index.js";

const EMPTY = new Uint8Array(0);

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
  /** Clock readings for stats, taken only while stats are enabled (a call costs no clock else). */
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
    const stats = target.isStatsEnabled;
    this.wallStart = stats ? performance.now() : 0;
    this.cpuStart = stats ? process.cpuUsage() : undefined;
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
        this.releaseArgs();
        return;
      }
      if (!isThenable(result)) {
        this.succeed(result);
        this.releaseArgs();
        return;
      }
      this.track();
      const settled = Promise.resolve(result).then(
        (v) => this.succeed(v),
        (e) => this.fail(e),
      );
      return entry.borrowRaw ? settled.then(() => this.releaseArgs()) : settled;
    }
    // Sync mode, strands and the pool need a signal up front: the task may wait or run elsewhere.
    this.track();
    const runOptions = {
      strand: target.strand,
      signal: this.served.signal,
      timeoutMs: peer.callTimeoutMs,
      label: entry.meta.name,
    };
    const args = this.decoded.args;
    // The method's own outcome, once it started: the dispatcher gives up on a canceled task at
    // once, but a Cancel is only a request (libqi): a method that was running is answered with
    // what it really does (its result, its error, or Canceled if it stopped on the signal).
    let outcome: Promise<unknown> | undefined;
    const body = () => {
      const r = entry.impl!.apply(context, args);
      outcome = Promise.resolve(r);
      return r;
    };
    const running = entry.pool
      ? dispatcher.runOnPool(entry.pool.module, entry.pool.export, args, runOptions)
      : dispatcher.run(body, runOptions);
    const answered = running.then(
      (v) => this.succeed(v),
      (e) => {
        const started = outcome;
        if (started !== undefined && this.served.aborted && isDispatchError(e, "QI_ERR_DISPATCH_CANCELED"))
          return started.then(
            (v) => this.succeed(v),
            (err) => this.fail(err),
          );
        // A timeout (or the dispatcher closing) ends the call here; the method learns it from
        // `this.signal`, which the dispatcher does not own.
        if (isDispatchError(e)) this.served.abort(e);
        this.fail(e);
      },
    );
    if (!entry.borrowRaw) return answered;
    // A method answered by a timeout may still be running: its arguments are released when it ends.
    const release = () => this.releaseArgs();
    return answered.then(() => (outcome === undefined ? release() : outcome.then(release, release)));
  }

  /** MethodOptions.borrowRaw: the method is done with its arguments, the call is answered. */
  private releaseArgs(): void {
    if (this.entry.borrowRaw) releasePayload(this.msg.payload);
  }

  /**
   * A call that may still be running when a Cancel arrives: remembered by its message id. A
   * Cancel is a request (libqi 4.0.5, spec §5.5): it aborts `this.signal`, and the call is
   * answered Canceled only if the method then stops (rejects with the abort); a method that
   * ignores the signal runs to its end and its real result or error goes back.
   */
  private track(): void {
    if (!this.isCall) return;
    this.peer.inflight.set(this.msg.id, this.served);
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
  }
}

/** A method that stopped on its signal rejects with its reason (ERR_CANCELED) or an AbortError. */
function isCanceled(e: unknown): boolean {
  return (
    isDispatchError(e, "QI_ERR_DISPATCH_CANCELED") ||
    isQiError(e, "QI_ERR_CANCELED") ||
    (e instanceof Error && e.name === "AbortError")
  );
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
  let payload: Payload;
  try {
    // A large raw result (a camera frame) is sent by reference, not copied.
    payload = returnSig === "v" ? EMPTY : encodePayload(returnSig, result, ctx);
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

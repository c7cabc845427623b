/**
 * A proxy of an object served by a peer: calls by name (with overload resolution), posts,
 * signals (one remote subscription per signal, shared by local listeners, spec §5.6),
 * properties, cancel through an AbortSignal, and release (terminate, spec §3.2).
 */
import { Capability } from "../connection/capabilities.js";
import { QiError } from "../connection/errors.js";
import { decode, encode, encodePayload, type Payload } from "../wire/index.js";
import { inferSignature } from "../wire/index.js";
import { type Message, MessageFlags } from "../wire/index.js";
import type { MetaMethod, MetaObject } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import type { PeerObjects } from "./peer.js";
import { overloadsFor } from "./overloads.js";
import { RemoteProperty, RemoteSignal } from "./remote-members.js";
import { type SignalCallback, SignalSubscriptions } from "./remote-subscriptions.js";
import type { SubscriptionRate } from "./subscription-rate.js";
import { type CallOutcome, watchedCall } from "./watched-call.js";

export type { CallOutcome } from "./watched-call.js";
export { RemoteProperty, RemoteSignal } from "./remote-members.js";

export interface InvokeOptions {
  /**
   * Aborting sends a Cancel to the callee. A Cancel is a request (libqi): the callee answers
   * Canceled only if the method stopped. By default the promise rejects with ERR_CANCELED at
   * once (the web meaning of an AbortSignal); `outcome` keeps the real answer observable.
   */
  signal?: AbortSignal;
  /**
   * "wait": after an abort, the promise settles with what the callee really answers (its result,
   * its error, or ERR_CANCELED when it stopped). A function: the promise still rejects at once,
   * and the function is told the real outcome when it comes.
   */
  outcome?: "wait" | ((outcome: CallOutcome) => void);
  timeoutMs?: number;
}

export type { SignalCallback } from "./remote-subscriptions.js";

interface PreparedCall {
  method: MetaMethod;
  /** Large raw arguments by reference (sent without a copy). */
  payload: Payload;
  flags: number;
}

export class RemoteObject {
  readonly objectId: number;
  readonly uid: Uint8Array | undefined;
  private boundPeer: PeerObjects;
  private boundService: number;
  private meta: MetaObject;
  private released = false;
  /** Why calls fail for now (the service is gone until it is registered again), if they do. */
  private suspended: string | undefined;
  /** Signal listeners and their remote subscriptions. */
  private readonly signals = new SignalSubscriptions(this);
  private readonly byName = new Map<string, MetaMethod[]>();

  constructor(
    peer: PeerObjects,
    serviceId: number,
    objectId: number,
    metaObject: MetaObject,
    uid?: Uint8Array,
  ) {
    this.boundPeer = peer;
    this.boundService = serviceId;
    this.objectId = objectId;
    this.meta = metaObject;
    this.uid = uid;
    this.indexMethods();
    peer.conn.setEventHandler(serviceId, objectId, (msg) => this.signals.onEvent(msg));
  }

  /** The connection's object layer this proxy talks through (another one after a reconnection). */
  get peer(): PeerObjects {
    return this.boundPeer;
  }

  get serviceId(): number {
    return this.boundService;
  }

  get metaObject(): MetaObject {
    return this.meta;
  }

  get isReleased(): boolean {
    return this.released || this.peer.conn.isClosed;
  }

  /** Whether calls can go out now (bound to an open connection, its service registered). */
  get isUsable(): boolean {
    return !this.isReleased && this.suspended === undefined;
  }

  /**
   * The service behind this proxy went away (Session): calls fail with `reason` until rebind();
   * the app's signal listeners stay, to be registered again there.
   */
  suspend(reason: string): void {
    this.suspended = reason;
    this.signals.suspend();
  }

  /**
   * The service is back, maybe on another connection and under another id (Session, after a
   * reconnection): calls go there, and every signal with local listeners is registered again,
   * once. Members are kept by uid: a service registered again with other members keeps the
   * listeners of those that still exist.
   */
  async rebind(peer: PeerObjects, serviceId: number, metaObject: MetaObject): Promise<void> {
    if (peer === this.boundPeer && serviceId === this.boundService && this.isUsable) return;
    this.boundPeer = peer;
    this.boundService = serviceId;
    this.meta = metaObject;
    this.released = false;
    this.suspended = undefined;
    this.indexMethods();
    peer.conn.setEventHandler(serviceId, this.objectId, (msg) => this.signals.onEvent(msg));
    peer.adoptProxy(this);
    await this.signals.registerAgain((uid) => this.hasSignal(uid));
  }

  /** How many signals this proxy holds a remote subscription for (each registered once). */
  get subscriptionCount(): number {
    return this.signals.size;
  }

  private indexMethods(): void {
    this.byName.clear();
    for (const m of this.meta.methods.values()) {
      const list = this.byName.get(m.name) ?? [];
      list.push(m);
      this.byName.set(m.name, list);
    }
  }

  private hasSignal(uid: number): boolean {
    return this.meta.signals.has(uid) || this.meta.properties.has(uid);
  }

  /** Calls a method by name (`name` or `name::(sig)` to pick an overload). */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    return this.invoke<T>(name, args);
  }

  /** Like call, with options (cancel, timeout). */
  invoke<T = unknown>(name: string, args: unknown[], options: InvokeOptions = {}): Promise<T> {
    // Not an async function: a small call's promise hops are a visible part of its cost.
    let prepared: PreparedCall;
    try {
      this.checkUsable();
      prepared = this.prepareCall(name, args);
    } catch (e) {
      return Promise.reject(e);
    }
    const { method, payload, flags } = prepared;
    if (options.signal !== undefined && options.outcome !== undefined)
      return this.peer.dispatcher.yieldWhile(
        watchedCall<T>(
          this.peer.conn,
          { service: this.serviceId, object: this.objectId, action: method.uid },
          { payload, flags, name: method.name },
          options.signal,
          options.outcome,
          options.timeoutMs,
          (m) => this.decodeReply(m, method.returnSignature) as T,
        ),
      );
    // yieldWhile: in sync dispatch mode, a served method waiting here must let queued calls
    // run, or a peer calling back into this process would deadlock (dispatcher rule 2).
    return this.peer.dispatcher
      .yieldWhile(
        this.peer.conn.call({ service: this.serviceId, object: this.objectId, action: method.uid }, payload, {
          flags,
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        }),
      )
      .then((answer) => this.decodeReply(answer, method.returnSignature) as T);
  }

  /** Fire-and-forget call of a method, or trigger of a signal (spec §5.4). */
  post(name: string, ...args: unknown[]): void {
    this.checkUsable();
    const signal = this.findSignal(name);
    const ctx = this.peer.codecContext(this.serviceId, "client");
    if (signal && !this.byName.has(name)) {
      this.peer.conn.post(
        { service: this.serviceId, object: this.objectId, action: signal.uid },
        encode(signal.signature, args, ctx),
      );
      return;
    }
    const { method, payload, flags } = this.prepareCall(name, args);
    this.peer.conn.post(
      { service: this.serviceId, object: this.objectId, action: method.uid },
      payload,
      flags,
    );
  }

  /** A typed function for one method: `const add = calc.method<number>("add"); await add(1, 2)`. */
  method<T = unknown>(name: string): (...args: unknown[]) => Promise<T> {
    return (...args) => this.invoke<T>(name, args);
  }

  signal(name: string): RemoteSignal {
    const meta = this.findSignal(name);
    if (!meta) throw new QiError("ERR_NO_SUCH_MEMBER", `no signal "${name}" on ${this.describe()}`);
    return new RemoteSignal(this, meta.uid, meta.signature);
  }

  property<T = unknown>(name: string): RemoteProperty<T> {
    const meta = [...this.metaObject.properties.values()].find((p) => p.name === name);
    if (!meta) throw new QiError("ERR_NO_SUCH_MEMBER", `no property "${name}" on ${this.describe()}`);
    return new RemoteProperty<T>(this, meta.uid, meta.name, meta.signature);
  }

  /** Drops this proxy; for objects other than a service's main object the host is told (terminate). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.signals.release();
    this.peer.releaseRemote(this.serviceId, this.objectId);
  }

  /**
   * Called when the connection closed under it. The app's signal listeners are kept: a
   * Session that reconnects rebinds its service proxies and registers them again; an object
   * passed by reference is never rebound and fails with ERR_DISCONNECTED from now on.
   */
  markReleased(): void {
    this.signals.forgetLinks();
  }

  describe(): string {
    return `object ${this.serviceId}.${this.objectId}`;
  }

  // --- signals (remote-subscriptions.ts) ---------------------------------------------------

  /** Adds a local listener; the first one registers the remote subscription. */
  connectSignal(
    uid: number,
    signature: string,
    callback: SignalCallback,
    rate?: SubscriptionRate,
  ): Promise<number> {
    try {
      this.checkUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.signals.connect(uid, signature, callback, rate);
  }

  /** Removes a local listener; the last one unregisters the remote subscription. */
  disconnectSignal(uid: number, localId: number): Promise<void> {
    return this.signals.disconnect(uid, localId);
  }

  // --- calls ------------------------------------------------------------------------------

  private prepareCall(name: string, args: unknown[]): PreparedCall {
    const candidates = overloadsFor(this.byName, name, args.length, this.describe());
    const ctx = this.peer.codecContext(this.serviceId, "client");
    let lastError: unknown;
    for (const method of candidates) {
      try {
        const sig = method.parametersSignature;
        const payload =
          sig === "m" ? encode("m", argumentsDynamic(args), ctx) : encodePayload(sig, args, ctx);
        return { method, payload, flags: 0 };
      } catch (e) {
        lastError = e;
      }
    }
    // Nothing converts: send the arguments as they are, in a dynamic, if the peer accepts
    // that (spec §1.4); the callee converts or answers with an Error.
    if (candidates.length === 1 && this.peer.conn.remoteCapabilities.get(Capability.MessageFlags) === true) {
      const payload = encode("m", argumentsDynamic(args), ctx);
      return { method: candidates[0], payload, flags: MessageFlags.DynamicPayload };
    }
    const sigs = candidates.map((m) => `${m.name}::${m.parametersSignature}`).join(", ");
    throw new QiError(
      "ERR_BAD_ARGUMENTS",
      `arguments do not fit ${sigs}: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { cause: lastError },
    );
  }

  private decodeReply(msg: Message, returnSig: string): unknown {
    const ctx = this.peer.codecContext(this.serviceId, "client");
    if (msg.flags & MessageFlags.DynamicPayload) {
      // A method returning `m` gives a Dynamic whichever way the peer sent it.
      const d = decode("m", msg.payload, ctx) as Dynamic;
      return returnSig === "m" ? d : d.value;
    }
    if (returnSig === "v" && msg.payload.byteLength === 0) return undefined;
    return decode(returnSig, msg.payload, ctx);
  }

  private findSignal(name: string) {
    for (const s of this.metaObject.signals.values()) if (s.name === name) return s;
    return undefined;
  }

  private checkUsable(): void {
    // A proxy whose connection died is marked released too: report the disconnection first.
    if (this.released) throw new QiError("ERR_CLOSED", `${this.describe()} was released`);
    if (this.peer.conn.isClosed)
      throw new QiError(
        "ERR_DISCONNECTED",
        this.objectId === 1
          ? `connection of ${this.describe()} is closed`
          : `connection of ${this.describe()} is closed: an object passed by reference is not re-created by a reconnection`,
      );
    if (this.suspended !== undefined) throw new QiError("ERR_DISCONNECTED", this.suspended);
  }
}

/**
 * The arguments as one dynamic whose signature is their tuple, e.g. `(is)` for (1, "x")
 * (spec §2.4, §10 L2): what a method with parameters exactly `m` and a DynamicPayload call carry.
 */
function argumentsDynamic(args: unknown[]): Dynamic {
  const sig = `(${args.map((a) => (a instanceof Dynamic ? "m" : inferSignature(a))).join("")})`;
  return new Dynamic(sig, args);
}

/**
 * An object defined in TypeScript and served over qi: methods (with overloads), signals and
 * properties with their signatures, plus the per-object state behind members 80–86 (stats
 * and trace). Member ids follow libqi: user members from 100 in declaration order; a
 * property is also a signal with the same id and signature `(T)` (spec §3.1).
 */
import { randomBytes } from "node:crypto";
import type { Strand } from "../dispatch/index.js";
import { inferSignature } from "../wire/index.js";
import { META_OBJECT_SIGNATURE } from "../wire/index.js";
import type { MetaMethod, MetaObject, MetaProperty, MetaSignal } from "../wire/index.js";
import { parseSignature } from "../wire/index.js";
import type { Connection } from "../connection/index.js";
import { QiError } from "../connection/errors.js";
import {
  FIRST_USER_MEMBER,
  manageableMethods,
  manageableSignals,
  networkMethods,
  Reserved,
  TraceKind,
} from "./reserved.js";
import { Dynamic, Struct } from "../wire/index.js";

/** What a method implementation sees as `this`. */
export interface CallContext {
  /** Aborted when the caller cancels or the call times out. */
  signal: AbortSignal;
  /** Who is calling (the authenticated identity), when known. */
  identity: string | undefined;
  /** The caller's address, for logs. */
  peer: string;
  /** The connection the call came in on (the Service Directory tracks registrations by it). */
  connection: Connection;
}

// biome-ignore lint/suspicious/noExplicitAny: implementations declare their own parameter types
export type MethodImpl = (this: CallContext, ...args: any[]) => unknown;

export interface MethodOptions {
  description?: string;
  parameters?: Array<{ name: string; description?: string }>;
  returnDescription?: string;
  /** Run on the worker pool: the module URL and export name of a pure function. */
  pool?: { module: string | URL; export: string };
  /**
   * The method keeps no Raw argument once it has returned (or its promise settled): the memory
   * of a large call (256 KiB or more) then serves a later one once the answer is written
   * (Raw.release(), wire/payload-pool.ts). A Raw kept anyway is found empty, never holding
   * another call's bytes. Returning the argument itself (an echo) is fine: it is sent first.
   */
  borrowRaw?: boolean;
}

export interface MethodEntry {
  meta: MetaMethod;
  impl: MethodImpl | undefined;
  pool: MethodOptions["pool"];
  /** MethodOptions.borrowRaw: the call's payload is released once it is answered. */
  borrowRaw?: boolean;
}

/** A subscriber to a signal: gets the decoded arguments as an array. */
export type SignalListener = (args: unknown[]) => void;

interface SignalEntry {
  meta: MetaSignal;
  listeners: Set<SignalListener>;
}

interface PropertyEntry {
  meta: MetaProperty;
  value: unknown;
}

export interface QiObjectOptions {
  description?: string;
  /** Calls to this object never overlap (libqi's single-threaded objects). */
  strand?: boolean;
}

interface MinMaxSum {
  minValue: number;
  maxValue: number;
  cumulatedValue: number;
}

interface MethodStats {
  count: number;
  wall: MinMaxSum;
  user: MinMaxSum;
  system: MinMaxSum;
}

let nextTraceId = 1;

export class QiObject {
  readonly description: string;
  /** 20 bytes that identify this object on the wire (spec §2.6, ObjectPtrUID). */
  readonly uid: Uint8Array = randomBytes(20);
  /** Set by the dispatcher glue when the object asks for serialized calls. */
  strand: Strand | undefined;
  readonly wantsStrand: boolean;

  private nextUid = FIRST_USER_MEMBER - 1;
  // Not readonly: withMembersOf() shares a template's methods and names.
  private methods = new Map<number, MethodEntry>();
  private readonly signals = new Map<number, SignalEntry>();
  private readonly properties = new Map<number, PropertyEntry>();
  private byName = new Map<string, number[]>();
  private cachedMeta: MetaObject | undefined;
  /** Members shared with a template (withMembersOf): none may be added. */
  private sharesMembers = false;
  private statsEnabled = false;
  private readonly statistics = new Map<number, MethodStats>();
  private traceEnabled = false;

  constructor(options: QiObjectOptions = {}) {
    this.description = options.description ?? "";
    this.wantsStrand = options.strand ?? false;
    for (const s of manageableSignals()) this.signals.set(s.uid, { meta: s, listeners: new Set() });
  }

  /**
   * A new object with the members of `template`: its methods, their signatures and the
   * MetaObject are shared, not copied; signals get subscribers of their own, properties values
   * of their own, and the object its own uid. For objects made once per connection (the
   * gateway's directory view), whose methods find per-connection state through
   * `this.connection`: a thousand clients then cost a thousand small objects, not a thousand
   * method tables. Members cannot be added to the new object.
   */
  static withMembersOf(template: QiObject): QiObject {
    const obj = new QiObject({ description: template.description, strand: template.wantsStrand });
    obj.methods = template.methods;
    obj.byName = template.byName;
    obj.nextUid = template.nextUid;
    obj.sharesMembers = true;
    obj.signals.clear();
    for (const [uid, entry] of template.signals)
      obj.signals.set(uid, { meta: entry.meta, listeners: new Set() });
    for (const [uid, entry] of template.properties)
      obj.properties.set(uid, { meta: entry.meta, value: entry.value });
    obj.cachedMeta = template.metaObject();
    return obj;
  }

  /**
   * Adds a method. `params` is the parameter tuple (e.g. `(is)`) or exactly `m`; omitted, the
   * method takes one dynamic per declared JS parameter and returns a dynamic, like Python
   * methods without `qi.bind`.
   */
  method(
    name: string,
    params: string | undefined,
    returns: string | undefined,
    impl: MethodImpl | null,
    options: MethodOptions = {},
  ): this {
    if (!impl && !options.pool)
      throw new QiError("ERR_BAD_ARGUMENTS", `method ${name} needs an implementation or a pool module`);
    const paramsSig = params ?? `(${"m".repeat(impl?.length ?? 0)})`;
    const returnSig = returns ?? "m";
    checkSignature(paramsSig, `parameters of ${name}`);
    checkSignature(returnSig, `return of ${name}`);
    const uid = this.allocate(name);
    const count = paramCount(paramsSig);
    this.methods.set(uid, {
      meta: {
        uid,
        returnSignature: returnSig,
        name,
        parametersSignature: paramsSig,
        description: options.description ?? "",
        parameters: (options.parameters ?? [])
          .slice(0, count)
          .map((p) => ({ name: p.name, description: p.description ?? "" })),
        returnDescription: options.returnDescription ?? "",
      },
      impl: impl ?? undefined,
      pool: options.pool,
      borrowRaw: options.borrowRaw === true,
    });
    return this;
  }

  /** Adds a signal; `signature` is its parameter tuple, e.g. `(is)`. */
  signal(name: string, signature: string): this {
    checkSignature(signature, `signal ${name}`);
    const uid = this.allocate(name);
    this.signals.set(uid, { meta: { uid, name, signature }, listeners: new Set() });
    return this;
  }

  /** Adds a property with its value type (inferred from the initial value when omitted). */
  property(name: string, signature: string | undefined, initial: unknown): this {
    const sig = signature ?? inferSignature(initial);
    checkSignature(sig, `property ${name}`);
    const uid = this.allocate(name);
    this.properties.set(uid, { meta: { uid, name, signature: sig }, value: initial });
    this.signals.set(uid, { meta: { uid, name, signature: `(${sig})` }, listeners: new Set() });
    return this;
  }

  // --- using it locally ---------------------------------------------------------------------

  /** Emits a signal to every subscriber, local and remote. */
  emit(name: string, ...args: unknown[]): void {
    const entry = this.signals.get(this.memberId(name, "signal"));
    if (!entry) throw new QiError("ERR_NO_SUCH_MEMBER", `no signal "${name}"`);
    this.emitById(entry.meta.uid, args);
  }

  emitById(uid: number, args: unknown[]): void {
    const entry = this.signals.get(uid);
    if (!entry) throw new QiError("ERR_NO_SUCH_MEMBER", `no signal #${uid}`);
    if (this.traceEnabled && uid !== Reserved.traceObject) this.trace(TraceKind.Signal, uid, args);
    for (const listener of entry.listeners) {
      try {
        listener(args);
      } catch {
        // One failing subscriber must not stop the others.
      }
    }
  }

  getProperty(name: string): unknown {
    const uid = this.memberId(name, "property");
    return this.properties.get(uid)!.value;
  }

  setProperty(name: string, value: unknown): void {
    this.setPropertyById(this.memberId(name, "property"), value);
  }

  setPropertyById(uid: number, value: unknown): void {
    const entry = this.properties.get(uid);
    if (!entry) throw new QiError("ERR_NO_SUCH_MEMBER", `no property #${uid}`);
    entry.value = value;
    this.emitById(uid, [value]);
  }

  /** Subscribes a local listener; returns the function that unsubscribes it. */
  connect(uid: number, listener: SignalListener): () => void {
    const entry = this.signals.get(uid);
    if (!entry) throw new QiError("ERR_NO_SUCH_MEMBER", `no signal #${uid}`);
    entry.listeners.add(listener);
    if (uid === Reserved.traceObject) this.traceEnabled = true; // subscribing enables tracing (spec §3.2)
    return () => {
      entry.listeners.delete(listener);
      // The last trace subscriber gone: nobody reads the events any more.
      if (uid === Reserved.traceObject && entry.listeners.size === 0) this.traceEnabled = false;
    };
  }

  // --- what the host needs ------------------------------------------------------------------

  /** The full MetaObject: members 0–8 and 80–86 plus the user members (what `metaObject` returns). */
  metaObject(): MetaObject {
    if (this.cachedMeta) return this.cachedMeta;
    const methods = new Map<number, MetaMethod>();
    for (const m of networkMethods(META_OBJECT_SIGNATURE)) methods.set(m.uid, m);
    for (const m of manageableMethods()) methods.set(m.uid, m);
    for (const [uid, m] of this.methods) methods.set(uid, m.meta);
    const signals = new Map<number, MetaSignal>();
    for (const [uid, s] of this.signals) signals.set(uid, s.meta);
    const properties = new Map<number, MetaProperty>();
    for (const [uid, p] of this.properties) properties.set(uid, p.meta);
    this.cachedMeta = { methods, signals, properties, description: this.description };
    return this.cachedMeta;
  }

  methodEntry(uid: number): MethodEntry | undefined {
    return this.methods.get(uid);
  }

  signalMeta(uid: number): MetaSignal | undefined {
    return this.signals.get(uid)?.meta;
  }

  propertyMeta(uid: number): MetaProperty | undefined {
    return this.properties.get(uid)?.meta;
  }

  propertyNames(): string[] {
    return [...this.properties.values()].map((p) => p.meta.name);
  }

  /** Resolves a property given by name or id (the argument of members 5 and 6). */
  propertyUid(nameOrId: unknown): number {
    const key = nameOrId instanceof Dynamic ? nameOrId.value : nameOrId;
    if (typeof key === "string") return this.memberId(key, "property");
    const uid = typeof key === "bigint" ? Number(key) : Number(key);
    if (!this.properties.has(uid)) throw new QiError("ERR_NO_SUCH_MEMBER", `no property #${String(key)}`);
    return uid;
  }

  propertyValueById(uid: number): unknown {
    return this.properties.get(uid)?.value;
  }

  // --- stats and trace (members 80–86) --------------------------------------------------------

  get isStatsEnabled(): boolean {
    return this.statsEnabled;
  }

  enableStats(on: boolean): void {
    this.statsEnabled = on;
  }

  clearStats(): void {
    this.statistics.clear();
  }

  get isTraceEnabled(): boolean {
    return this.traceEnabled;
  }

  enableTrace(on: boolean): void {
    this.traceEnabled = on;
  }

  /** Stats as the `stats` member returns them: member id → MethodStatistics. */
  stats(): Map<number, Struct> {
    const out = new Map<number, Struct>();
    for (const [uid, s] of this.statistics) {
      out.set(
        uid,
        new Struct("MethodStatistics", {
          count: s.count,
          wall: mms(s.wall),
          user: mms(s.user),
          system: mms(s.system),
        }),
      );
    }
    return out;
  }

  recordCall(uid: number, wallSeconds: number, userSeconds: number, systemSeconds: number): void {
    if (!this.statsEnabled) return;
    let s = this.statistics.get(uid);
    if (!s) {
      s = { count: 0, wall: emptyMms(), user: emptyMms(), system: emptyMms() };
      this.statistics.set(uid, s);
    }
    s.count++;
    addMms(s.wall, wallSeconds);
    addMms(s.user, userSeconds);
    addMms(s.system, systemSeconds);
  }

  /** Emits a traceObject event (spec §3.2) when tracing is on; returns the trace id used. */
  trace(kind: number, slotId: number, args: unknown, id = nextTraceId++): number {
    if (!this.traceEnabled) return id;
    const now = Date.now();
    const cpu = process.cpuUsage();
    const event = new Struct("EventTrace", {
      id,
      kind,
      slotId,
      arguments: args instanceof Dynamic ? args : new Dynamic(safeInfer(args), args),
      timestamp: new Struct("timeval", {
        tv_sec: BigInt(Math.floor(now / 1000)),
        tv_usec: BigInt((now % 1000) * 1000),
      }),
      userUsTime: BigInt(cpu.user),
      systemUsTime: BigInt(cpu.system),
      callerContext: 0,
      calleeContext: 0,
    });
    this.emitById(Reserved.traceObject, [event]);
    return id;
  }

  // --- internals ----------------------------------------------------------------------------

  private allocate(name: string): number {
    if (this.sharesMembers)
      throw new QiError("ERR_BAD_ARGUMENTS", `cannot add "${name}": this object shares its members`);
    this.cachedMeta = undefined;
    const uid = ++this.nextUid;
    const list = this.byName.get(name) ?? [];
    list.push(uid);
    this.byName.set(name, list);
    return uid;
  }

  private memberId(name: string, kind: "signal" | "property"): number {
    for (const uid of this.byName.get(name) ?? []) {
      if (kind === "signal" ? this.signals.has(uid) : this.properties.has(uid)) return uid;
    }
    if (kind === "signal" && name === "traceObject") return Reserved.traceObject;
    throw new QiError("ERR_NO_SUCH_MEMBER", `no ${kind} "${name}"`);
  }
}

function checkSignature(sig: string, what: string): void {
  try {
    parseSignature(sig);
  } catch (e) {
    throw new QiError("ERR_BAD_ARGUMENTS", `invalid signature for ${what}: ${(e as Error).message}`);
  }
}

function paramCount(sig: string): number {
  const node = parseSignature(sig);
  return node.kind === "tuple" ? node.members.length : 1;
}

function emptyMms(): MinMaxSum {
  return { minValue: Number.POSITIVE_INFINITY, maxValue: 0, cumulatedValue: 0 };
}

function addMms(m: MinMaxSum, v: number): void {
  m.minValue = Math.min(m.minValue, v);
  m.maxValue = Math.max(m.maxValue, v);
  m.cumulatedValue += v;
}

function mms(m: MinMaxSum): Struct {
  return new Struct("MinMaxSum", {
    minValue: Number.isFinite(m.minValue) ? m.minValue : 0,
    maxValue: m.maxValue,
    cumulatedValue: m.cumulatedValue,
  });
}

function safeInfer(v: unknown): string {
  try {
    return inferSignature(v);
  } catch {
    return "v";
  }
}

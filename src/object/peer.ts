/**
 * Everything object-related that belongs to one connection: the objects served on it
 * (services' main objects, objects exported by reference), signal subscriptions it holds,
 * calls in flight (for Cancel), and the proxies of the objects the peer exported to us.
 * Attached to the connection under its own slot (OBJECTS_SLOT) and as the connection's "serve"
 * request step, so both ends of every connection serve calls (ClientServerSocket); a router
 * attached as the "route" step sees requests first, whichever of the two attached first.
 */
// Not through connection/index.ts: it also exports challenge-auth (node:crypto), which the
// browser bundle of this file must not pull in.
import { ConnectionSlot } from "../connection/attach.js";
import { Capability } from "../connection/capabilities.js";
import { addressKey, type Connection, canceledCallId, errorText } from "../connection/connection.js";
import { QiError } from "../connection/errors.js";
import type { Dispatcher } from "../dispatch/index.js";
import type { CodecContext } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import { ObjectRef } from "../wire/index.js";
import { allocateClientObjectId, allocateHostedObjectId, MAIN_OBJECT_ID } from "./ids.js";
import { isRequestForwarder, type RequestForwarder } from "./forwarder.js";
import { invokeRequest } from "./invoke.js";
import { PassedOnProxy } from "./passed-on-proxy.js";
import { QiObject } from "./qi-object.js";
import { RemoteObject } from "./remote-object.js";
import { postTerminate } from "./reserved.js";

/** Where a host finds its services' main objects: service id → object. */
export interface ServiceRegistry {
  mainObject(serviceId: number): QiObject | RequestForwarder | undefined;
}

export interface PeerObjectsOptions {
  registry?: ServiceRegistry;
  dispatcher: Dispatcher;
  /** Per-call timeout for methods served here (ms); none by default. */
  callTimeoutMs?: number;
  /** Calls of the peer's that may be running here at once (default 10,000); more get an Error. */
  maxServedCalls?: number;
}

export const DEFAULT_MAX_SERVED_CALLS = 10_000;

/** Where a connection keeps its PeerObjects. */
const OBJECTS_SLOT = new ConnectionSlot<PeerObjects>("objects");
const NO_REGISTRY: ServiceRegistry = { mainObject: () => undefined };

interface Subscription {
  unsubscribe: () => void;
}

/** Sends `terminate` for proxies the program forgot without releasing them. */
const forgotten = new FinalizationRegistry<{ peer: PeerObjects; service: number; object: number }>((held) => {
  held.peer.releaseRemote(held.service, held.object);
});

export class PeerObjects {
  readonly conn: Connection;
  readonly dispatcher: Dispatcher;
  readonly callTimeoutMs: number | undefined;
  readonly maxServedCalls: number;
  private readonly registry: ServiceRegistry;
  // Every table below is made on first use: most connections (a gateway's idle clients) never
  // export, subscribe or import anything, and six empty Maps each are most of their cost.
  /** Objects exported on this connection by reference: "service.object" → object. */
  private exported: Map<string, QiObject | PassedOnProxy> | undefined;
  /** The ids an object (a QiObject, or a proxy passed on) has here, by service. */
  private exportedIds: Map<QiObject | RemoteObject, Map<number, number>> | undefined;
  private subscriptionTable: Map<string, Subscription> | undefined;
  private inflightTable: Map<number, { abort(reason?: unknown): void }> | undefined;
  /** Codec contexts by serviceId * 2 + (host ? 1 : 0). */
  private contexts: Map<number, CodecContext> | undefined;
  /** Proxies of the peer's objects, so one remote object is one proxy. */
  private proxies: Map<string, WeakRef<RemoteObject>> | undefined;

  private constructor(conn: Connection, options: PeerObjectsOptions) {
    this.conn = conn;
    this.dispatcher = options.dispatcher;
    this.callTimeoutMs = options.callTimeoutMs;
    this.maxServedCalls = options.maxServedCalls ?? DEFAULT_MAX_SERVED_CALLS;
    this.registry = options.registry ?? NO_REGISTRY;
    conn.attachRequests("serve", (msg) => this.serveRequest(msg));
    conn.onClose(() => this.dispose());
  }

  /** Subscriptions the peer holds on our objects: "service.object.link" → subscription. */
  get subscriptions(): Map<string, Subscription> {
    this.subscriptionTable ??= new Map();
    return this.subscriptionTable;
  }

  /** Calls being served, by message id, for Cancel. */
  get inflight(): Map<number, { abort(reason?: unknown): void }> {
    this.inflightTable ??= new Map();
    return this.inflightTable;
  }

  /** The object state of a connection, created on first use (a second attach gets the first). */
  static attach(conn: Connection, options: PeerObjectsOptions): PeerObjects {
    return conn.attached(OBJECTS_SLOT) ?? conn.attach(OBJECTS_SLOT, new PeerObjects(conn, options));
  }

  static of(conn: Connection): PeerObjects | undefined {
    return conn.attached(OBJECTS_SLOT);
  }

  /** The object a request is addressed to, if this connection serves one there. */
  resolve(service: number, object: number): QiObject | RequestForwarder | undefined {
    return (
      this.exported?.get(addressKey(service, object)) ??
      (object === MAIN_OBJECT_ID ? this.registry.mainObject(service) : undefined)
    );
  }

  /**
   * Codec context for a payload exchanged with `serviceId`: local objects inside become
   * exported references (as host, ids from 3; as client, ids from 2^31), references from the
   * peer become proxies.
   */
  codecContext(serviceId: number, side: "host" | "client"): CodecContext {
    // Made once per (service, side): building three closures per message showed in profiles.
    const objectUid = this.conn.shared(Capability.ObjectPtrUID);
    const key = serviceId * 2 + (side === "host" ? 1 : 0);
    this.contexts ??= new Map();
    let ctx = this.contexts.get(key);
    if (ctx === undefined || ctx.objectUid !== objectUid) {
      ctx = {
        objectUid,
        exportObject: (value) => this.exportObject(value, serviceId, side),
        importObject: (ref) => this.importObject(ref),
      };
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  exportObject(value: unknown, serviceId: number, side: "host" | "client"): ObjectRef {
    if (value instanceof ObjectRef) return value;
    if (value === null || value === undefined) {
      return new ObjectRef(
        { methods: new Map(), signals: new Map(), properties: new Map(), description: "" },
        serviceId,
        0,
        new Uint8Array(20),
      );
    }
    if (value instanceof RemoteObject) {
      // A proxy of the peer's own object goes back as the peer's address.
      if (value.peer === this)
        return new ObjectRef(value.metaObject, value.serviceId, value.objectId, value.uid);
      // A proxy from another peer is passed on: served here by a forwarder (spec §5.7).
      const objectId = this.idFor(
        value,
        serviceId,
        side,
        (id) => new PassedOnProxy(value, this, serviceId, id),
      );
      return new ObjectRef(value.metaObject, serviceId, objectId, value.uid);
    }
    if (!(value instanceof QiObject)) {
      throw new QiError("ERR_BAD_ARGUMENTS", "an object argument must be a QiObject, a proxy, or null");
    }
    const objectId = this.idFor(value, serviceId, side, () => value);
    return new ObjectRef(value.metaObject(), serviceId, objectId, value.uid);
  }

  /** The object id of `value` on this connection under `serviceId`, exported on first use. */
  private idFor(
    value: QiObject | RemoteObject,
    serviceId: number,
    side: "host" | "client",
    served: (objectId: number) => QiObject | PassedOnProxy,
  ): number {
    this.exportedIds ??= new Map();
    this.exported ??= new Map();
    let ids = this.exportedIds.get(value);
    let objectId = ids?.get(serviceId);
    if (objectId === undefined) {
      objectId = side === "host" ? allocateHostedObjectId() : allocateClientObjectId();
      if (!ids) {
        ids = new Map();
        this.exportedIds.set(value, ids);
      }
      ids.set(serviceId, objectId);
      this.exported.set(addressKey(serviceId, objectId), served(objectId));
    }
    return objectId;
  }

  importObject(ref: ObjectRef): RemoteObject | QiObject | null {
    if (ref.objectId === 0) return null;
    const key = addressKey(ref.serviceId, ref.objectId);
    // One of the objects we exported on this connection, handed back: it is ours, not a proxy.
    const own = this.exported?.get(key);
    if (own instanceof QiObject) return own;
    if (own instanceof PassedOnProxy) return own.target;
    this.proxies ??= new Map();
    const known = this.proxies.get(key)?.deref();
    if (known && !known.isReleased) return known;
    const proxy = new RemoteObject(this, ref.serviceId, ref.objectId, ref.metaObject, ref.uid);
    this.proxies.set(key, new WeakRef(proxy));
    if (ref.objectId !== MAIN_OBJECT_ID)
      forgotten.register(proxy, { peer: this, service: ref.serviceId, object: ref.objectId }, proxy);
    return proxy;
  }

  /** A proxy for a remote main object whose MetaObject we fetched (Session.service). */
  adoptProxy(proxy: RemoteObject): void {
    this.proxies ??= new Map();
    this.proxies.set(addressKey(proxy.serviceId, proxy.objectId), new WeakRef(proxy));
  }

  /** Forgets an exported object (terminate received, or the peer left). */
  unexport(service: number, object: number): void {
    const key = addressKey(service, object);
    const served = this.exported?.get(key);
    if (!served) return;
    this.exported?.delete(key);
    const obj = served instanceof PassedOnProxy ? served.target : served;
    const ids = this.exportedIds?.get(obj);
    ids?.delete(service);
    if (ids && ids.size === 0) this.exportedIds?.delete(obj);
    const subscriptions = this.subscriptionTable;
    if (!subscriptions) return;
    for (const [subKey, sub] of subscriptions) {
      if (subKey.startsWith(`${key}.`)) {
        sub.unsubscribe();
        subscriptions.delete(subKey);
      }
    }
  }

  get exportedCount(): number {
    return this.exported?.size ?? 0;
  }

  /** Sends `terminate` for a remote object we no longer hold (libqi posts it, spec §3.2). */
  releaseRemote(service: number, object: number): void {
    const key = addressKey(service, object);
    const proxy = this.proxies?.get(key)?.deref();
    if (proxy) forgotten.unregister(proxy);
    this.proxies?.delete(key);
    this.conn.setEventHandler(service, object, undefined);
    if (object === MAIN_OBJECT_ID || this.conn.isClosed) return;
    postTerminate(this.conn, service, object);
  }

  /**
   * Serves one incoming Call, Post or Cancel addressed to an object on this connection; a Call
   * to an address where nothing is served is answered "could not be handled".
   */
  handleRequest(msg: Message): void {
    if (!this.serveRequest(msg) && msg.type === MessageType.Call)
      this.conn.replyError(msg, "The call request could not be handled.");
  }

  /** The connection's "serve" step: false when nothing is served at the address. */
  private serveRequest(msg: Message): boolean {
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      if (id !== undefined)
        this.inflightTable?.get(id)?.abort(new QiError("ERR_CANCELED", "call canceled by the caller"));
      return true;
    }
    const target = this.resolve(msg.service, msg.object);
    if (!target) return false;
    if (isRequestForwarder(target)) {
      target.forwardRequest(msg, this.conn);
      return true;
    }
    try {
      invokeRequest(this, target, msg)?.catch((e) => this.failRequest(msg, e));
    } catch (e) {
      this.failRequest(msg, e);
    }
    return true;
  }

  private failRequest(msg: Message, e: unknown): void {
    if (msg.type === MessageType.Call && !this.conn.isClosed) this.conn.replyError(msg, errorText(e));
  }

  private dispose(): void {
    const inflight = this.inflightTable;
    if (inflight) {
      for (const ac of inflight.values()) ac.abort(new QiError("ERR_DISCONNECTED", "caller disconnected"));
      inflight.clear();
    }
    const subscriptions = this.subscriptionTable;
    if (subscriptions) {
      for (const sub of subscriptions.values()) sub.unsubscribe();
      subscriptions.clear();
    }
    // Proxies passed on to this peer stop forwarding its subscriptions.
    const exported = this.exported;
    if (exported) {
      for (const served of [...exported.values()]) if (served instanceof PassedOnProxy) served.dispose();
      exported.clear();
    }
    this.exportedIds?.clear();
    const proxies = this.proxies;
    if (proxies) {
      for (const ref of proxies.values()) ref.deref()?.markReleased();
      proxies.clear();
    }
  }
}

export function hasDynamicPayload(msg: Message): boolean {
  return (msg.flags & MessageFlags.DynamicPayload) !== 0;
}

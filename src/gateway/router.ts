/**
 * The gateway's router: forwards calls, posts, answers, cancels and events between external
 * clients and internal services. Message ids are rewritten by the connections' own pending
 * tables (every forwarded call is a fresh call on the other side), payloads pass through
 * untouched unless they may hold objects (spec §7.9), signals are fanned out from one
 * upstream subscription per (service, object, signal), and objects crossing the gateway get
 * per-client ids so a client can reach only what was handed to it.
 */
import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import { Capability } from "../connection/index.js";
import { canceledCallId, type Connection, errorText } from "../connection/index.js";
import { QiError, isQiError } from "../connection/index.js";
import { PeerObjects } from "../object/index.js";
import { requestSignature } from "../object/index.js";
import { NETWORK_MEMBER_PARAMS, postTerminate, Reserved, subscriptionArgs } from "../object/index.js";
import type { CodecContext } from "../wire/index.js";
import { decode, encode } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import type { MetaObject } from "../wire/index.js";
import { convertValue, defaultValue } from "../wire/index.js";
import { parseSignature } from "../wire/index.js";
import { Dynamic, ObjectRef } from "../wire/index.js";
import type { ClientLink, ExportTarget, ForwardedCall } from "./client-link.js";
import { ConnectionNumbers } from "./connection-numbers.js";
import type { GatewayMetrics } from "./metrics.js";
import { rewriteObjects } from "./object-rewrite.js";
import { UpstreamShares } from "./upstream-share.js";
import type { Permissions } from "./permissions.js";
import type { Upstream } from "./upstream.js";

export interface RouterLimits {
  /** Calls one client may have in flight. */
  maxPendingCalls: number;
  /** Bytes queued toward a client above which its events are dropped (and counted). */
  maxQueuedBytes: number;
  /** Bytes queued toward a client above which it is disconnected. */
  hardQueuedBytes: number;
  /** Calls all clients together may have in flight on one shared upstream connection. */
  maxUpstreamPendingCalls: number;
  /** Calls one user (all its connections) may have in flight on one upstream connection. */
  maxUserPendingCalls: number;
  /** Places of maxUpstreamPendingCalls kept for users with few calls in flight there. */
  upstreamReserve: number;
  /** A user with fewer calls than this in flight on an upstream may use its reserve. */
  upstreamReservePerUser: number;
  /** Signal subscriptions one client may hold. */
  maxSubscriptions: number;
  /** Characters of a name or signature a client gives (service, property, wanted signature). */
  maxNameLength: number;
  /** Services one client may register through the gateway (when registration is on). */
  maxRegistrations: number;
}

export const DEFAULT_LIMITS: RouterLimits = {
  maxPendingCalls: 1_000,
  maxQueuedBytes: 8 * 1024 * 1024,
  hardQueuedBytes: 64 * 1024 * 1024,
  // Below the 10,000 a Connection and a service host take, so the gateway's own calls
  // (MetaObjects, subscriptions) still fit when clients have filled their shares.
  maxUpstreamPendingCalls: 8_000,
  maxUserPendingCalls: 2_000,
  upstreamReserve: 2_000,
  upstreamReservePerUser: 32,
  maxSubscriptions: 1_000,
  maxNameLength: 256,
  maxRegistrations: 16,
};

const UNHANDLED = "The call request could not be handled.";
const BUSY = "The service is busy: too many calls in flight through the gateway; try again later.";
const EMPTY = new Uint8Array(0);

interface Target {
  conn: Connection;
  service: number;
  objectId: number;
  meta: MetaObject;
  serviceName: string;
}

interface Subscriber {
  clientObjectId: number;
  /** The client's link ids → the signature it wants the events in (registerEventWithSignature). */
  links: Map<bigint, string | undefined>;
}

/**
 * One upstream subscription per (connection, service, object, signal), always a plain
 * registerEvent: each event arrives once and is handed to each client link once, converted
 * here for links that asked for another signature (so no two upstream subscriptions can
 * deliver each other's events).
 */
interface Fanout {
  conn: Connection;
  service: number;
  objectId: number;
  signal: number;
  signature: string;
  upstreamLink: bigint;
  ready: Promise<void>;
  subscribers: Map<ClientLink, Subscriber>;
}

/** A client's object exported upstream by the gateway (callbacks passed as arguments). */
interface UpstreamExport {
  link: ClientLink;
  clientService: number;
  clientObjectId: number;
  meta: MetaObject;
}

let nextUpstreamLink = 1n;

export class Router {
  readonly clients = new Set<ClientLink>();
  private readonly fanouts = new Map<string, Fanout>();
  private readonly eventHandlersInstalled = new Set<string>();
  private readonly upstreamRefs = new Map<
    string,
    { refs: number; conn: Connection; service: number; objectId: number }
  >();
  private readonly upstreamExports = new Map<string, UpstreamExport>();
  private readonly exportIds = new Map<string, number>();
  private readonly upstreamInflight = new Map<string, AbortController>();
  private readonly connNumbers = new ConnectionNumbers();
  private readonly shares: UpstreamShares;

  constructor(
    private readonly upstream: Upstream,
    private readonly permissions: Permissions,
    private readonly metrics: GatewayMetrics,
    private readonly limits: RouterLimits,
    private readonly logger: Logger,
  ) {
    this.shares = new UpstreamShares({
      total: limits.maxUpstreamPendingCalls,
      perUser: limits.maxUserPendingCalls,
      reserve: limits.upstreamReserve,
      reservePerUser: limits.upstreamReservePerUser,
    });
  }

  // --- clients ----------------------------------------------------------------------------

  addClient(link: ClientLink): void {
    this.clients.add(link);
    link.conn.setRequestHandler((msg) => this.onClientRequest(link, msg));
  }

  removeClient(link: ClientLink): void {
    if (!this.clients.delete(link)) return;
    clearInterval(link.throttle);
    link.throttle = undefined;
    const left = new QiError("ERR_DISCONNECTED", "client left");
    for (const call of link.inflight.values()) this.cancelForwarded(call, left);
    link.inflight.clear();
    for (const fkey of new Set(link.subscriptions.values())) {
      const f = this.fanouts.get(fkey);
      if (!f) continue;
      f.subscribers.delete(link);
      if (f.subscribers.size === 0) this.dropFanout(fkey, f, true);
    }
    link.subscriptions.clear();
    for (const mapped of link.objects.values()) this.releaseUpstreamRef(mapped.upstreamKey);
    link.objects.clear();
    link.objectIdsByUpstream.clear();
    for (const key of link.exportedUpstream) {
      this.upstreamExports.delete(key);
    }
    for (const k of this.exportIds.keys()) if (k.startsWith(`${link.number}|`)) this.exportIds.delete(k);
    link.exportedUpstream.clear();
    link.exportTargets.clear();
  }

  /** Installed on every upstream connection: calls addressed to clients' objects go to them. */
  adoptUpstream(conn: Connection): void {
    const peer = PeerObjects.of(conn);
    conn.setRequestHandler((msg) => {
      if (!this.onUpstreamRequest(conn, msg)) peer?.handleRequest(msg);
    });
    conn.onClose(() => this.forgetUpstream(conn));
  }

  /**
   * An upstream connection closed (its service process died or left): the references held
   * through it and the client objects exported over it are forgotten, so that a gateway
   * outliving many service restarts does not accumulate them. Clients keep their ids for
   * such objects until they release them; calls on them answer an error.
   */
  private forgetUpstream(conn: Connection): void {
    for (const [key, ref] of this.upstreamRefs) if (ref.conn === conn) this.upstreamRefs.delete(key);
    const n = this.connNumbers.of(conn);
    const prefix = `${n}.`;
    for (const [key, exp] of this.upstreamExports) {
      if (!key.startsWith(prefix)) continue;
      this.upstreamExports.delete(key);
      exp.link.exportedUpstream.delete(key);
    }
    for (const link of this.clients) {
      for (const targets of link.exportTargets.values()) {
        for (let i = targets.length - 1; i >= 0; i--) if (targets[i].conn === conn) targets.splice(i, 1);
      }
    }
    const infix = `|${n}|`;
    for (const key of this.exportIds.keys()) if (key.includes(infix)) this.exportIds.delete(key);
    const gone = new QiError("ERR_DISCONNECTED", "the service that called this object went away");
    for (const [key, ac] of this.upstreamInflight) {
      if (!key.startsWith(prefix)) continue;
      this.upstreamInflight.delete(key);
      ac.abort(gone);
    }
  }

  /** A service went away: its subscriptions are gone, its calls in flight fail now. */
  onServiceRemoved(serviceId: number, name: string): void {
    for (const [key, f] of this.fanouts) if (f.service === serviceId) this.dropFanout(key, f, false);
    const reason = new QiError(
      "ERR_DISCONNECTED",
      `Service "${name}" was removed while the call was in flight.`,
    );
    for (const link of this.clients) {
      for (const [id, call] of link.inflight) {
        if (call.service === serviceId) {
          link.inflight.delete(id);
          this.cancelForwarded(call, reason);
        }
      }
    }
  }

  stats(): { clients: number; fanouts: number; upstreamObjects: number; exports: number } {
    return {
      clients: this.clients.size,
      fanouts: this.fanouts.size,
      upstreamObjects: this.upstreamRefs.size,
      exports: this.upstreamExports.size,
    };
  }

  // --- client → service -------------------------------------------------------------------

  private onClientRequest(link: ClientLink, msg: Message): void {
    this.metrics.bytesIn(msg.payload.byteLength + 28);
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      const call = id === undefined ? undefined : link.inflight.get(id);
      if (call) this.cancelForwarded(call, new QiError("ERR_CANCELED", "canceled by the client"));
      return;
    }
    if (msg.service === 1 && msg.object === 1) {
      PeerObjects.of(link.conn)?.handleRequest(msg);
      return;
    }
    // Objects handed to this client by a service it registered through the gateway (callbacks
    // of internal callers) are served on its own connection, by the proxies that pass them on.
    // Those take client-side ids (from 2^31); the router's own ids for the client stay below.
    if (msg.object >= 0x80000000) {
      const peer = PeerObjects.of(link.conn);
      if (peer?.resolve(msg.service, msg.object)) {
        peer.handleRequest(msg);
        return;
      }
    }
    // A known service on an open connection is forwarded in this tick; the first call to a
    // service waits for its connection and MetaObject.
    const target = this.targetOf(link, msg);
    if (!(target instanceof Promise)) {
      this.forward(link, msg, target);
      return;
    }
    // Requests waiting for their service count as pending: a client cannot pile up more of
    // them than it may have in flight.
    if (this.refusedAsTooMany(link, msg)) return;
    link.waiting++;
    target.then(
      (t) => {
        link.waiting--;
        this.forward(link, msg, t);
      },
      (e) => {
        link.waiting--;
        if (msg.type === MessageType.Call) this.answerError(link, msg, this.unavailable(msg.service, e));
      },
    );
  }

  /** Answers (Calls) and drops requests of a client that has its limit of them pending. */
  private refusedAsTooMany(link: ClientLink, msg: Message): boolean {
    if (link.inflight.size + link.waiting < this.limits.maxPendingCalls) return false;
    this.metrics.refusedCall();
    if (msg.type === MessageType.Call)
      this.answerError(
        link,
        msg,
        `Too many pending calls through the gateway (limit ${this.limits.maxPendingCalls}).`,
      );
    return true;
  }

  /**
   * What a client is told when its service cannot be reached: never an internal endpoint or
   * address (errors of connections inside name them). The detail goes to the debug log.
   */
  private unavailable(service: number, e: unknown, knownName?: string): string {
    if (isQiError(e, "ERR_REMOTE")) return errorText(e); // the service's own answer
    const name = knownName ?? this.upstream.serviceById(service)?.name;
    this.logger.debug({ service, err: errorText(e) }, "service unreachable for a client");
    return name === undefined ? `Service #${service} is unavailable.` : `Service "${name}" is unavailable.`;
  }

  /**
   * Where a request of this client goes: at once (no promise) when everything about it is
   * known, a promise when its service's connection or MetaObject is still to come, null when
   * nothing this client may reach is there.
   */
  private targetOf(link: ClientLink, msg: Message): Target | null | Promise<Target> {
    const info = this.upstream.serviceById(msg.service);
    if (!info || !this.permissions.canSee(link.identity, info.name)) return null;
    if (msg.object !== 1) return this.clientObjectTarget(link, msg, info.name);
    const conn = this.upstream.connectionNow(msg.service);
    const meta = conn && this.upstream.metaObjectNow(conn, msg.service, 1);
    if (!conn || !meta) return this.resolveTarget(msg.service, info.name);
    return { conn, service: msg.service, objectId: 1, meta, serviceName: info.name };
  }

  private async resolveTarget(service: number, serviceName: string): Promise<Target> {
    const conn = await this.upstream.connectionFor(service);
    const meta = await this.upstream.metaObject(conn, service, 1);
    return { conn, service, objectId: 1, meta, serviceName };
  }

  /** An object handed to this client (never another client's: ids are per client). */
  private clientObjectTarget(link: ClientLink, msg: Message, serviceName: string): Target | null {
    const mapped = link.objects.get(msg.object);
    if (!mapped || mapped.service !== msg.service) return null;
    return {
      conn: mapped.upstream,
      service: mapped.service,
      objectId: mapped.objectId,
      meta: mapped.meta,
      serviceName,
    };
  }

  /** `target` null: nothing this client may reach is there. */
  private forward(link: ClientLink, msg: Message, target: Target | null): void {
    if (link.conn.isClosed) return;
    if (target === null || target.conn.isClosed) {
      if (msg.type === MessageType.Call) this.answerError(link, msg, UNHANDLED);
      return;
    }
    switch (msg.action) {
      case Reserved.registerEvent:
      case Reserved.registerEventWithSignature:
        if (msg.type === MessageType.Call)
          this.subscribe(link, target, msg).catch((e) => this.answerError(link, msg, errorText(e)));
        return;
      case Reserved.unregisterEvent:
        // Malformed arguments make unsubscribe reject: answer them, or the call would hang and
        // the rejection go unhandled (found by test/gateway/fuzz.test.ts: an empty payload).
        if (msg.type === MessageType.Call)
          this.unsubscribe(link, msg).catch((e) => this.answerError(link, msg, errorText(e)));
        return;
      case Reserved.terminate:
        if (msg.object !== 1) this.releaseClientObject(link, msg.object);
        if (msg.type === MessageType.Call) link.conn.reply(msg, EMPTY);
        return;
    }
    const denied = this.checkMember(link, target, msg);
    if (denied) {
      if (msg.type === MessageType.Call) this.answerError(link, msg, denied);
      return;
    }
    if (msg.type === MessageType.Call) {
      // One id names one call: a reused id would let a client count once and weigh many.
      if (link.inflight.has(msg.id)) {
        this.metrics.refusedCall();
        this.answerError(link, msg, `Message id ${msg.id} is already used by a call in flight.`);
        return;
      }
      if (this.refusedAsTooMany(link, msg)) return;
    }
    // Whatever the flags, the payload is read by the signature the service declares (or as a
    // dynamic, whose objects are read too): no flag lets an object reference pass unmapped.
    const params = parametersOf(target.meta, msg.action);
    const paramsSig =
      msg.flags === 0 || (params === undefined && !(msg.flags & MessageFlags.DynamicPayload))
        ? params
        : requestSignature(params ?? "m", msg.flags);
    let payload = msg.payload;
    if (paramsSig !== undefined) {
      try {
        payload = rewriteObjects(msg.payload, paramsSig, ctxOf(link.conn), ctxOf(target.conn), (ref) =>
          this.exportClientObject(link, target.conn, target.service, ref),
        );
      } catch (e) {
        if (msg.type === MessageType.Call) this.answerError(link, msg, errorText(e));
        return;
      }
    }
    const address = { service: target.service, object: target.objectId, action: msg.action };
    if (msg.type === MessageType.Post) {
      target.conn.post(address, payload, msg.flags);
      this.metrics.bytesOut(payload.byteLength + 28);
      return;
    }
    const user = link.identity ?? "";
    const load = this.shares.take(target.conn, user);
    if (load === undefined) {
      this.metrics.refusedCall();
      this.answerError(link, msg, BUSY);
      return;
    }
    const started = performance.now();
    this.metrics.bytesOut(payload.byteLength + 28);
    const { id, answer } = target.conn.startCall(address, payload, { flags: msg.flags });
    // No AbortController per call: a Cancel, a vanished service or a departing client give up
    // on the upstream call by its id (cancelCall), which rejects `answer` with the reason.
    const call: ForwardedCall = {
      upstream: target.conn,
      upstreamId: id,
      service: target.service,
      action: msg.action,
      meta: target.meta,
    };
    link.inflight.set(msg.id, call);
    answer.then(
      (reply) => {
        this.shares.release(load, user);
        if (link.inflight.get(msg.id) === call) link.inflight.delete(msg.id);
        this.metrics.call(target.serviceName, (performance.now() - started) / 1000, false);
        if (link.conn.isClosed) return;
        this.answerFromUpstream(link, msg, target, reply);
      },
      (e) => {
        this.shares.release(load, user);
        if (link.inflight.get(msg.id) === call) link.inflight.delete(msg.id);
        // Counted once, here (answerError would count it again); a cancel is not an error.
        const canceled = isQiError(e, "ERR_CANCELED");
        this.metrics.call(target.serviceName, (performance.now() - started) / 1000, !canceled);
        if (link.conn.isClosed) return;
        if (canceled) link.conn.replyCanceled(msg);
        else link.conn.replyError(msg, this.unavailable(target.service, e, target.serviceName));
      },
    );
  }

  /**
   * Gives up on a forwarded call. The service may have answered already (its Reply crossing
   * our Cancel): objects in that Reply were exported to us, and nobody will ever hold them, so
   * they are released at once, or the service would keep them for the life of the connection
   * (found by test/gateway/fuzz.test.ts: a Cancel right behind a call returning an object).
   */
  private cancelForwarded(call: ForwardedCall, reason: Error): void {
    call.upstream.cancelCall(call.upstreamId, reason, (late) => this.releaseLateReply(call, late));
  }

  private releaseLateReply(call: ForwardedCall, reply: Message): void {
    if (reply.type !== MessageType.Reply) return;
    const conn = call.upstream;
    const returnSig = reply.flags & MessageFlags.DynamicPayload ? "m" : returnOf(call.meta, call.action);
    if (returnSig === undefined) return;
    const connNumber = this.connNumbers.of(conn);
    try {
      rewriteObjects(reply.payload, returnSig, ctxOf(conn), ctxOf(conn), (ref) => {
        const upKey = `${connNumber}.${ref.serviceId}.${ref.objectId}`;
        // Held by a client already (the same object handed out twice), or one of a client's
        // own objects coming back: not ours to release.
        if (ref.objectId !== 0 && !this.upstreamRefs.has(upKey) && !this.upstreamExports.has(upKey))
          postTerminate(conn, ref.serviceId, ref.objectId);
        return ref;
      });
    } catch {
      // An undecodable late Reply holds nothing we could release.
    }
  }

  private answerFromUpstream(link: ClientLink, msg: Message, target: Target, reply: Message): void {
    const returnSig = reply.flags & MessageFlags.DynamicPayload ? "m" : returnOf(target.meta, msg.action);
    let out: Uint8Array;
    try {
      out =
        returnSig === undefined
          ? reply.payload
          : rewriteObjects(reply.payload, returnSig, ctxOf(target.conn), ctxOf(link.conn), (ref) =>
              this.importUpstreamObject(link, target.conn, ref),
            );
    } catch (e) {
      this.answerError(link, msg, errorText(e));
      return;
    }
    this.sendAnswer(link, msg, out, reply.flags);
  }

  /** Permission check for a member; returns the refusal text, or undefined when allowed. */
  private checkMember(link: ClientLink, target: Target, msg: Message): string | undefined {
    const action = msg.action;
    if (action === Reserved.metaObject || action === Reserved.properties) return undefined;
    // Stats and trace (members 80–86) show every client's calls to the object, arguments and
    // results included: an operator's tool, not something a `call: "*"` rule meant to give.
    if (isManageable(action)) {
      if (this.permissions.isAdmin(link.identity)) return undefined;
      return `Permission denied: the stats and trace of ${target.serviceName} are for administrators.`;
    }
    // Reading a property is observing it: the same right as subscribing to its changes.
    if (action === Reserved.property) {
      const name = propertyNameOf(target.meta, msg, "(m)");
      if (
        name !== undefined &&
        this.permissions.allows(link.identity, "subscribe", `${target.serviceName}.${name}`)
      )
        return undefined;
      return `Permission denied: cannot read ${target.serviceName}.${clip(name ?? "?", this.limits.maxNameLength)}.`;
    }
    if (action === Reserved.setProperty) {
      const name = propertyNameOf(target.meta, msg, "(mm)");
      if (
        name === undefined ||
        !this.permissions.allows(link.identity, "write", `${target.serviceName}.${name}`)
      ) {
        return `Permission denied: cannot set ${target.serviceName}.${clip(name ?? "?", this.limits.maxNameLength)}.`;
      }
      return undefined;
    }
    const method = target.meta.methods.get(action)?.name;
    if (method !== undefined) {
      if (this.permissions.allows(link.identity, "call", `${target.serviceName}.${method}`)) return undefined;
      return `Permission denied: cannot call ${target.serviceName}.${method}.`;
    }
    // A Call or Post to a signal emits it and one to a property sets it: subscribers would see
    // what this client sent as the service's own (issue 10: a forged battery charge). That is
    // writing, and needs the write right on the member.
    const member = target.meta.signals.get(action)?.name ?? target.meta.properties.get(action)?.name;
    if (member === undefined) return undefined; // unknown member: the service answers for itself
    if (this.permissions.allows(link.identity, "write", `${target.serviceName}.${member}`)) return undefined;
    return `Permission denied: cannot emit or set ${target.serviceName}.${member}.`;
  }

  private answerError(link: ClientLink, msg: Message, text: string): void {
    this.metrics.error();
    link.conn.replyError(msg, text);
  }

  // --- signals ----------------------------------------------------------------------------

  private async subscribe(link: ClientLink, target: Target, msg: Message): Promise<void> {
    const { signal, link: clientLinkId, wanted } = subscriptionArgs(msg);
    const meta = target.meta.signals.get(signal);
    if (!meta) {
      this.answerError(link, msg, `Cannot find signal #${signal} on object {${msg.service}.${msg.object}}`);
      return;
    }
    const allowed = isManageable(signal)
      ? this.permissions.isAdmin(link.identity)
      : this.permissions.allows(link.identity, "subscribe", `${target.serviceName}.${meta.name}`);
    if (!allowed) {
      this.answerError(
        link,
        msg,
        `Permission denied: cannot subscribe to ${target.serviceName}.${meta.name}.`,
      );
      return;
    }
    if (wanted !== undefined) {
      const refusal = this.refuseWantedSignature(wanted, meta.signature);
      if (refusal) {
        this.answerError(link, msg, `Cannot subscribe to ${target.serviceName}.${meta.name}: ${refusal}`);
        return;
      }
    }
    const fkey = `${this.connNumbers.of(target.conn)}.${target.service}.${target.objectId}.${signal}`;
    // A link id names one subscription of this client on this object; reused for another
    // signal, the first subscription could no longer be found to end (found by the fuzz test).
    const subKey = `${msg.service}.${msg.object}.${clientLinkId}`;
    const taken = link.subscriptions.get(subKey);
    if (taken !== undefined && taken !== fkey) {
      this.answerError(link, msg, `Signal link ${clientLinkId} is already in use on this object.`);
      return;
    }
    if (taken === undefined && link.subscriptions.size + link.subscribing >= this.limits.maxSubscriptions) {
      this.metrics.refusedCall();
      this.answerError(
        link,
        msg,
        `Too many subscriptions through the gateway (limit ${this.limits.maxSubscriptions}).`,
      );
      return;
    }
    let f = this.fanouts.get(fkey);
    if (!f) {
      const upstreamLink = nextUpstreamLink++;
      this.installEventHandler(target.conn, target.service, target.objectId);
      const fanout: Fanout = {
        conn: target.conn,
        service: target.service,
        objectId: target.objectId,
        signal,
        signature: meta.signature,
        upstreamLink,
        subscribers: new Map(),
        ready: target.conn
          .call(
            { service: target.service, object: target.objectId, action: Reserved.registerEvent },
            encode("(IIL)", [target.service, signal, upstreamLink]),
          )
          .then(() => {}),
      };
      f = fanout;
      this.fanouts.set(fkey, fanout);
      fanout.ready.catch(() => {
        if (this.fanouts.get(fkey) === fanout) this.fanouts.delete(fkey);
      });
    }
    link.subscribing++;
    try {
      await f.ready;
    } catch (e) {
      this.answerError(link, msg, this.unavailable(target.service, e, target.serviceName));
      return;
    } finally {
      link.subscribing--;
    }
    // The client may have left, or taken the link id for another signal, while upstream
    // answered; the fanout may have been dropped meanwhile by another subscriber that left.
    if (this.fanouts.get(fkey) !== f && this.clients.has(link)) {
      await this.subscribe(link, target, msg);
      return;
    }
    const takenMeanwhile = link.subscriptions.get(subKey);
    if (!this.clients.has(link) || (takenMeanwhile !== undefined && takenMeanwhile !== fkey)) {
      // An upstream subscription nobody ended up wanting is ended at once.
      if (f.subscribers.size === 0) this.dropFanout(fkey, f, true);
      if (this.clients.has(link))
        this.answerError(link, msg, `Signal link ${clientLinkId} is already in use on this object.`);
      return;
    }
    let sub = f.subscribers.get(link);
    if (!sub) {
      sub = { clientObjectId: msg.object, links: new Map() };
      f.subscribers.set(link, sub);
    }
    sub.links.set(clientLinkId, wanted);
    link.subscriptions.set(subKey, fkey);
    link.conn.reply(msg, encode("L", clientLinkId));
  }

  /**
   * Why a registerEventWithSignature cannot be served (undefined when it can): a signature
   * too long to be a real one, unreadable, or one the signal's values do not convert to.
   */
  private refuseWantedSignature(wanted: string, signature: string): string | undefined {
    if (wanted.length > this.limits.maxNameLength)
      return `signature longer than ${this.limits.maxNameLength} characters`;
    if (wanted === signature) return undefined;
    try {
      parseSignature(wanted);
      convertValue(defaultValue(signature), signature, wanted);
      return undefined;
    } catch {
      return `its values (${signature}) do not convert to "${wanted}"`;
    }
  }

  private async unsubscribe(link: ClientLink, msg: Message): Promise<void> {
    const clientLinkId = subscriptionArgs(msg).link;
    if (clientLinkId === 0xffffffffffffffffn) {
      link.conn.reply(msg, EMPTY);
      return;
    }
    const key = `${msg.service}.${msg.object}.${clientLinkId}`;
    const fkey = link.subscriptions.get(key);
    if (fkey === undefined) {
      this.answerError(
        link,
        msg,
        `Unregister request failed for ${msg.service}.${msg.object} link ${clientLinkId}`,
      );
      return;
    }
    link.subscriptions.delete(key);
    const f = this.fanouts.get(fkey);
    if (f) {
      const sub = f.subscribers.get(link);
      sub?.links.delete(clientLinkId);
      if (sub && sub.links.size === 0) f.subscribers.delete(link);
      if (f.subscribers.size === 0) this.dropFanout(fkey, f, true);
    }
    link.conn.reply(msg, EMPTY);
  }

  private dropFanout(key: string, f: Fanout, unregisterUpstream: boolean): void {
    if (this.fanouts.get(key) !== f) return;
    this.fanouts.delete(key);
    for (const [link] of f.subscribers) {
      for (const [k, v] of link.subscriptions) if (v === key) link.subscriptions.delete(k);
    }
    if (unregisterUpstream && !f.conn.isClosed) {
      f.ready
        .then(() =>
          f.conn.call(
            { service: f.service, object: f.objectId, action: Reserved.unregisterEvent },
            encode("(IIL)", [f.service, f.signal, f.upstreamLink]),
          ),
        )
        .catch(() => {});
    }
  }

  private installEventHandler(conn: Connection, service: number, objectId: number): void {
    const key = `${this.connNumbers.of(conn)}.${service}.${objectId}`;
    if (this.eventHandlersInstalled.has(key)) return;
    this.eventHandlersInstalled.add(key);
    conn.setEventHandler(service, objectId, (msg) => this.onUpstreamEvent(conn, msg));
    conn.onClose(() => this.eventHandlersInstalled.delete(key));
  }

  /** One upstream Event, to every subscription of it (one lookup: one upstream subscription per signal). */
  private onUpstreamEvent(conn: Connection, msg: Message): void {
    const f = this.fanouts.get(`${this.connNumbers.of(conn)}.${msg.service}.${msg.object}.${msg.action}`);
    if (f !== undefined) this.deliver(f, msg, conn);
  }

  private deliver(f: Fanout, msg: Message, conn: Connection): void {
    const sig = msg.flags & MessageFlags.DynamicPayload ? "m" : f.signature;
    for (const [link, sub] of f.subscribers) {
      const queued = link.conn.channel.bufferedBytes;
      if (queued > this.limits.maxQueuedBytes) {
        // What a stalled client is owed counts toward the hard limit: dropping events keeps
        // its queue small, but a client that never reads must not be kept forever.
        link.droppedEvents += sub.links.size;
        link.owedBytes += (msg.payload.byteLength + 28) * sub.links.size;
        this.metrics.droppedEvents(sub.links.size);
        if (queued + link.owedBytes > this.limits.hardQueuedBytes) this.dropStalled(link, queued);
        continue;
      }
      link.owedBytes = 0;
      let payload = msg.payload;
      try {
        payload = rewriteObjects(msg.payload, sig, ctxOf(conn), ctxOf(link.conn), (ref) =>
          this.importUpstreamObject(link, conn, ref),
        );
      } catch {
        continue;
      }
      const address = { service: msg.service, object: sub.clientObjectId, action: msg.action };
      for (const wanted of sub.links.values()) {
        if (wanted === undefined) {
          link.conn.sendEvent(address, payload, msg.flags);
          this.metrics.bytesOut(payload.byteLength + 28);
          continue;
        }
        const converted = convertEvent(payload, sig, wanted, ctxOf(link.conn));
        if (converted === undefined) continue;
        link.conn.sendEvent(address, converted, MessageFlags.DynamicPayload);
        this.metrics.bytesOut(converted.byteLength + 28);
      }
    }
  }

  private dropStalled(link: ClientLink, queued: number): void {
    this.logger.warn(
      { client: link.number, queued, owed: link.owedBytes },
      "client stalled past the hard limit, disconnecting",
    );
    link.conn.destroy(new QiError("ERR_LIMIT", "client too slow: outgoing queue over the hard limit"));
  }

  /**
   * Answers go out whatever the queue (they were asked for), but a client whose queue is over
   * the soft limit is not read until it drains, and one over the hard limit is dropped.
   */
  private sendAnswer(link: ClientLink, call: Message, payload: Uint8Array, flags: number): void {
    const queued = link.conn.channel.bufferedBytes;
    if (queued + payload.byteLength > this.limits.hardQueuedBytes) {
      this.dropStalled(link, queued);
      return;
    }
    link.conn.reply(call, payload, flags);
    this.metrics.bytesOut(payload.byteLength + 28);
    if (queued + payload.byteLength > this.limits.maxQueuedBytes) this.pauseReading(link);
  }

  private pauseReading(link: ClientLink): void {
    if (link.throttle || link.conn.isClosed) return;
    link.conn.channel.pause();
    link.throttle = setInterval(() => {
      if (link.conn.isClosed || link.conn.channel.bufferedBytes <= this.limits.maxQueuedBytes / 2) {
        clearInterval(link.throttle);
        link.throttle = undefined;
        if (!link.conn.isClosed) link.conn.channel.resume();
      }
    }, 10);
    link.throttle.unref?.();
  }

  // --- objects ----------------------------------------------------------------------------

  /** An object returned by a service: the client gets its own id for it. */
  private importUpstreamObject(link: ClientLink, conn: Connection, ref: ObjectRef): ObjectRef {
    if (ref.objectId === 0) return ref;
    const upKey = `${this.connNumbers.of(conn)}.${ref.serviceId}.${ref.objectId}`;
    // One of the client's own objects coming back: give it its original address.
    const own = this.upstreamExports.get(upKey);
    if (own && own.link === link)
      return new ObjectRef(ref.metaObject, own.clientService, own.clientObjectId, ref.uid);
    let clientId = link.objectIdsByUpstream.get(upKey);
    if (clientId === undefined) {
      clientId = link.allocateObjectId();
      link.objectIdsByUpstream.set(upKey, clientId);
      link.objects.set(clientId, {
        clientObjectId: clientId,
        upstream: conn,
        service: ref.serviceId,
        objectId: ref.objectId,
        meta: ref.metaObject,
        uid: ref.uid,
        upstreamKey: upKey,
      });
      const shared = this.upstreamRefs.get(upKey);
      if (shared) shared.refs++;
      else this.upstreamRefs.set(upKey, { refs: 1, conn, service: ref.serviceId, objectId: ref.objectId });
      this.upstream.rememberMetaObject(conn, ref.serviceId, ref.objectId, ref.metaObject);
    }
    return new ObjectRef(ref.metaObject, ref.serviceId, clientId, ref.uid);
  }

  /** The client dropped an object (terminate): the upstream one is released with the last holder. */
  private releaseClientObject(link: ClientLink, clientObjectId: number): void {
    const mapped = link.objects.get(clientObjectId);
    if (!mapped) return;
    link.objects.delete(clientObjectId);
    link.objectIdsByUpstream.delete(mapped.upstreamKey);
    this.releaseUpstreamRef(mapped.upstreamKey);
  }

  private releaseUpstreamRef(upKey: string): void {
    const shared = this.upstreamRefs.get(upKey);
    if (!shared) return;
    shared.refs--;
    if (shared.refs > 0) return;
    this.upstreamRefs.delete(upKey);
    if (shared.conn.isClosed) return;
    postTerminate(shared.conn, shared.service, shared.objectId);
  }

  /** An object the client passes as an argument: upstream sees a gateway-hosted id for it. */
  private exportClientObject(link: ClientLink, conn: Connection, service: number, ref: ObjectRef): ObjectRef {
    if (ref.objectId === 0) return ref;
    // An object the client got from upstream, passed back: its upstream address.
    const mapped = link.objects.get(ref.objectId);
    if (mapped && mapped.upstream === conn && ref.objectId < 0x80000000) {
      return new ObjectRef(ref.metaObject, mapped.service, mapped.objectId, ref.uid);
    }
    const idKey = `${link.number}|${this.connNumbers.of(conn)}|${ref.serviceId}.${ref.objectId}`;
    let gwId = this.exportIds.get(idKey);
    if (gwId === undefined) {
      gwId = this.unusedExportId(conn, service);
      this.exportIds.set(idKey, gwId);
      const key = `${this.connNumbers.of(conn)}.${service}.${gwId}`;
      this.upstreamExports.set(key, {
        link,
        clientService: ref.serviceId,
        clientObjectId: ref.objectId,
        meta: ref.metaObject,
      });
      link.exportedUpstream.add(key);
      this.forwardEventsOf(link, ref, { conn, service, gwId });
    }
    return new ObjectRef(ref.metaObject, service, gwId, ref.uid);
  }

  /**
   * A random id for a client object exported upstream, from the top quarter of the 2^31
   * range libqi keeps for exported objects: sequential ids let one client guess another's
   * (issue 10), and the process-wide counter (allocateClientObjectId, from 2^31) would need
   * 2^30 objects to reach these.
   */
  private unusedExportId(conn: Connection, service: number): number {
    const prefix = `${this.connNumbers.of(conn)}.${service}.`;
    for (;;) {
      const id = randomInt(0xc0000000, 0x100000000);
      if (!this.upstreamExports.has(prefix + id)) return id;
    }
  }

  /**
   * Events the client's object emits go to every upstream connection it was exported to,
   * under the gateway id it has there. One handler per client address: a peer that uses one
   * address for an object it passed to two services still reaches the subscribers of both.
   */
  private forwardEventsOf(link: ClientLink, ref: ObjectRef, target: ExportTarget): void {
    const key = `${ref.serviceId}.${ref.objectId}`;
    const known = link.exportTargets.get(key);
    if (known) {
      known.push(target);
      return;
    }
    const targets = [target];
    link.exportTargets.set(key, targets);
    link.conn.setEventHandler(ref.serviceId, ref.objectId, (ev) => {
      const sig =
        ev.flags & MessageFlags.DynamicPayload ? "m" : ref.metaObject.signals.get(ev.action)?.signature;
      for (const { conn, service, gwId } of targets) {
        if (conn.isClosed) continue;
        const payload =
          sig === undefined
            ? ev.payload
            : rewriteObjects(ev.payload, sig, ctxOf(link.conn), ctxOf(conn), (r) =>
                this.exportClientObject(link, conn, service, r),
              );
        conn.sendEvent({ service, object: gwId, action: ev.action }, payload, ev.flags);
      }
    });
  }

  // --- service → client (calls on objects the client passed) ------------------------------

  /** Returns false when the request is not for a client object (then the default handler serves it). */
  private onUpstreamRequest(conn: Connection, msg: Message): boolean {
    const connId = this.connNumbers.of(conn);
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      if (id === undefined) return true;
      const ac = this.upstreamInflight.get(`${connId}.${id}`);
      if (!ac) return false;
      ac.abort(new QiError("ERR_CANCELED", "canceled by the service"));
      return true;
    }
    const key = `${connId}.${msg.service}.${msg.object}`;
    const exp = this.upstreamExports.get(key);
    if (!exp) return false;
    this.forwardToClient(conn, msg, exp).catch((e) => {
      if (msg.type === MessageType.Call && !conn.isClosed) conn.replyError(msg, errorText(e));
    });
    return true;
  }

  private async forwardToClient(conn: Connection, msg: Message, exp: UpstreamExport): Promise<void> {
    const link = exp.link;
    if (link.conn.isClosed) {
      if (msg.type === MessageType.Call) conn.replyError(msg, UNHANDLED);
      return;
    }
    const params = parametersOf(exp.meta, msg.action);
    const paramsSig =
      params === undefined && !(msg.flags & MessageFlags.DynamicPayload)
        ? undefined
        : requestSignature(params ?? "m", msg.flags);
    const payload =
      paramsSig === undefined
        ? msg.payload
        : rewriteObjects(msg.payload, paramsSig, ctxOf(conn), ctxOf(link.conn), (ref) =>
            this.importUpstreamObject(link, conn, ref),
          );
    const address = { service: exp.clientService, object: exp.clientObjectId, action: msg.action };
    if (msg.type === MessageType.Post) {
      link.conn.post(address, payload, msg.flags);
      return;
    }
    const ac = new AbortController();
    const inflightKey = `${this.connNumbers.of(conn)}.${msg.id}`;
    this.upstreamInflight.set(inflightKey, ac);
    try {
      const reply = await link.conn.call(address, payload, { flags: msg.flags, signal: ac.signal });
      const returnSig = reply.flags & MessageFlags.DynamicPayload ? "m" : returnOf(exp.meta, msg.action);
      const out =
        returnSig === undefined
          ? reply.payload
          : rewriteObjects(reply.payload, returnSig, ctxOf(link.conn), ctxOf(conn), (ref) =>
              this.exportClientObject(link, conn, msg.service, ref),
            );
      conn.reply(msg, out, reply.flags);
    } catch (e) {
      if (conn.isClosed) return;
      if (isQiError(e, "ERR_CANCELED")) conn.replyCanceled(msg);
      else conn.replyError(msg, errorText(e));
    } finally {
      this.upstreamInflight.delete(inflightKey);
    }
  }
}

/**
 * An event for a registerEventWithSignature subscriber: a dynamic of the signature it asked
 * for (spec §5.6), as a service host sends it; undefined when this value does not convert.
 */
function convertEvent(
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

function ctxOf(conn: Connection): CodecContext {
  return { objectUid: conn.shared(Capability.ObjectPtrUID) };
}

function parametersOf(meta: MetaObject, action: number): string | undefined {
  const params =
    meta.methods.get(action)?.parametersSignature ??
    meta.signals.get(action)?.signature ??
    NETWORK_MEMBER_PARAMS[action];
  if (params !== undefined) return params;
  const property = meta.properties.get(action);
  return property && `(${property.signature})`;
}

/** A client-supplied string as it may appear in an answer: at most `max` characters. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function returnOf(meta: MetaObject, action: number): string | undefined {
  return meta.methods.get(action)?.returnSignature;
}

function decodeReservedArgs(msg: Message, sig: string): unknown[] {
  if (msg.flags & MessageFlags.DynamicPayload) {
    const d = decode("m", msg.payload) as Dynamic;
    return Array.isArray(d.value) ? d.value : [];
  }
  return decode(sig, msg.payload) as unknown[];
}

/** Members 80–86 of every object: stats and trace (spec §3.2). */
function isManageable(uid: number): boolean {
  return uid >= Reserved.isStatsEnabled && uid <= Reserved.traceObject;
}

/** The property a property/setProperty request names (by name or uid), from its arguments `sig`. */
function propertyNameOf(meta: MetaObject, msg: Message, sig: "(m)" | "(mm)"): string | undefined {
  try {
    const args = decodeReservedArgs(msg, sig);
    const key = args[0] instanceof Dynamic ? args[0].value : args[0];
    if (typeof key === "string") return key;
    const uid = Number(key);
    return meta.properties.get(uid)?.name;
  } catch {
    return undefined;
  }
}

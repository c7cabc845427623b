/**
 * Calls and posts from clients to services. A forwarded call is a fresh call on the upstream
 * connection (its own message id there); the payload passes untouched unless its signature
 * may hold objects. Each client has a bounded number of calls pending, and each user a fair
 * share of every upstream connection (UpstreamShares), so that no client or user can take a
 * shared service's capacity from the others (issue 10).
 *
 * This is the gateway's hot path: a call to a known service on an open connection is
 * forwarded in the tick it arrives, with its target (connection, MetaObject, metrics) cached
 * per service, no string built, and metrics that cost a counter increment.
 */
import type { Logger } from "pino";
import {
  type Connection,
  canceledCallId,
  decodeErrorPayload,
  errorText,
  isQiError,
  QiError,
} from "../../connection/index.js";
import { postTerminate } from "../../object/index.js";
import { type Message, MessageType, mayContainObject, passOn } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { GatewayMetrics } from "../metrics.js";
import { rewriteObjects } from "../object-rewrite.js";
import type { Permissions } from "../permissions.js";
import { UpstreamShares } from "../upstream-share.js";
import type { ClientFlow } from "./client-flow.js";
import { whenClosed } from "./connection-hooks.js";
import { ForwardedCall, type ForwardedOutcomes } from "./forwarded-call.js";
import type { RouterLimits } from "./limits.js";
import { refuseMember } from "./member-rights.js";
import type { ObjectMap } from "./object-map.js";
import { ctxOf, mapObjects, replyPayloadSignature, requestPayloadSignature } from "./payloads.js";
import type { Replies } from "./replies.js";
import type { Target, UpstreamView } from "./target.js";

/** The reason a client's Cancel gives the upstream call (its real answer is relayed later). */
const CLIENT_CANCELED = new QiError("ERR_CANCELED", "canceled by the client");
const BUSY = "The service is busy: too many calls in flight through the gateway; try again later.";
const HEADER = 28;

export class CallForwarder implements ForwardedOutcomes {
  private readonly shares: UpstreamShares;
  /** The target of each service's main object while its connection and MetaObject stay the same. */
  private readonly serviceTargets = new Map<number, Target>();
  private readonly lateByConn = new WeakMap<Connection, Set<() => void>>();

  constructor(
    private readonly clients: ReadonlySet<ClientLink>,
    private readonly upstream: UpstreamView,
    private readonly permissions: Permissions,
    private readonly metrics: GatewayMetrics,
    private readonly limits: RouterLimits,
    private readonly flow: ClientFlow,
    private readonly objectMap: ObjectMap,
    private readonly replies: Replies,
    private readonly logger: Logger,
  ) {
    this.shares = new UpstreamShares({
      total: limits.maxUpstreamPendingCalls,
      perUser: limits.maxUserPendingCalls,
      reserve: limits.upstreamReserve,
      reservePerUser: limits.upstreamReservePerUser,
    });
  }

  /**
   * Where a request of this client goes: at once (no promise) when everything about it is
   * known, a promise when its service's connection or MetaObject is still to come, null when
   * nothing this client may reach is there.
   */
  targetOf(link: ClientLink, msg: Message): Target | null | Promise<Target> {
    const info = this.upstream.serviceById(msg.service);
    if (!info || !this.permissions.canSee(link.identity, info.name)) return null;
    if (msg.object !== 1) return this.clientObjectTarget(link, msg, info.name);
    const conn = this.upstream.connectionNow(msg.service);
    if (!conn) return this.resolveTarget(msg.service, info.name);
    const cached = this.serviceTargets.get(msg.service);
    if (cached !== undefined && cached.conn === conn && cached.serviceName === info.name) return cached;
    const meta = this.upstream.metaObjectNow(conn, msg.service, 1);
    if (!meta) return this.resolveTarget(msg.service, info.name);
    const target = this.mainTarget(conn, msg.service, meta, info.name);
    this.serviceTargets.set(msg.service, target);
    return target;
  }

  /**
   * Forwards a request whose target is still to come (its service's connection or MetaObject).
   * Requests waiting for their service count as pending: a client cannot pile up more of them
   * than it may have in flight.
   */
  whenResolved(link: ClientLink, msg: Message, target: Promise<Target>, then: (t: Target) => void): void {
    if (this.refusedAsTooMany(link, msg)) return;
    link.waiting++;
    target.then(
      (t) => {
        link.waiting--;
        then(t);
      },
      (e) => {
        link.waiting--;
        if (msg.type === MessageType.Call)
          this.replies.error(link, msg, this.replies.unavailable(msg.service, e));
      },
    );
  }

  /** Forwards a Call or Post to `target` (checked: permissions, limits, objects in the payload). */
  forward(link: ClientLink, msg: Message, target: Target): void {
    const isCall = msg.type === MessageType.Call;
    const denied = refuseMember(this.permissions, this.limits.maxNameLength, link, target, msg);
    if (denied !== undefined) {
      if (isCall) this.replies.error(link, msg, denied);
      return;
    }
    // One id names one call: a reused id would let a client count once and weigh many. The
    // client's Connection owns that check: it refuses a Call whose id is still in progress
    // before any handler sees it (Connection.admitCall), and an id stays in progress there
    // until it is answered, which the router does only after taking it out of link.inflight.
    // So link.inflight never meets a duplicate (test/gateway/router/call-forwarder.test.ts).
    if (isCall && this.refusedAsTooMany(link, msg)) return;
    let payload = msg.payload;
    const sig = requestPayloadSignature(target.meta, msg);
    if (sig !== undefined && mayContainObject(sig)) {
      try {
        payload = rewriteObjects(msg.payload, sig, ctxOf(link.conn), ctxOf(target.conn), (ref) =>
          this.objectMap.exportClientObject(link, target.conn, target.service, ref),
        );
      } catch (e) {
        if (isCall) this.replies.error(link, msg, errorText(e));
        return;
      }
    }
    // Forwarded as received and kept nowhere here: a large payload's memory may take the next
    // one once written (wire/payload-pool.ts).
    if (payload === msg.payload) passOn(payload);
    const address = { service: target.service, object: target.objectId, action: msg.action };
    if (!isCall) {
      target.conn.post(address, payload, msg.flags);
      this.metrics.bytesOut(payload.byteLength + HEADER);
      return;
    }
    const user = link.identity ?? "";
    const load = this.shares.take(target.conn, user);
    if (load === undefined) {
      this.metrics.refusedCall();
      this.replies.error(link, msg, BUSY);
      return;
    }
    this.metrics.bytesOut(payload.byteLength + HEADER);
    // One record per call, answered by id from the upstream connection's intake (answered,
    // failed below): no promise, closure, AbortController or timer per call.
    const call = new ForwardedCall(
      this,
      link,
      msg.id,
      msg.object,
      msg.action,
      target,
      load,
      user,
      performance.now(),
    );
    const id = target.conn.startCallFor(call, payload, msg.flags);
    if (typeof id !== "number") {
      this.shares.release(load, user);
      target.calls.record(0, true);
      link.conn.replyError(msg, this.replies.unavailable(target.service, id, target.serviceName));
      return;
    }
    call.upstreamId = id;
    link.inflight.set(msg.id, call);
  }

  /** The service answered a forwarded call (Reply, Error or Canceled): relayed to its client. */
  answered(call: ForwardedCall, answer: Message): void {
    this.shares.release(call.load, call.user);
    const link = call.link;
    if (link.inflight.get(call.clientId) === call) link.inflight.delete(call.clientId);
    const type = answer.type;
    call.target.calls.record(performance.now() - call.started, type === MessageType.Error);
    if (link.conn.isClosed) return;
    if (type === MessageType.Reply) this.relayReply(call, answer);
    else if (type === MessageType.Error)
      link.conn.replyError(call.clientCall(), decodeErrorPayload(answer.payload));
    else link.conn.replyCanceled(call.clientCall());
  }

  /**
   * A forwarded call ended here: canceled by its client or the router (cancelCall), or its
   * upstream connection closed.
   */
  failed(call: ForwardedCall, e: Error): void {
    this.shares.release(call.load, call.user);
    // Canceled by the client: the service's own answer to the Cancel is awaited (relayLate).
    if (e === CLIENT_CANCELED && call.relayLate !== undefined) return;
    const link = call.link;
    if (link.inflight.get(call.clientId) === call) link.inflight.delete(call.clientId);
    // Counted once, here (replies.error would count it again); a cancel is not an error.
    const canceled = isQiError(e, "ERR_CANCELED");
    call.target.calls.record(performance.now() - call.started, !canceled);
    if (link.conn.isClosed) return;
    if (canceled) link.conn.replyCanceled(call.clientCall());
    else
      link.conn.replyError(
        call.clientCall(),
        this.replies.unavailable(call.service, e, call.target.serviceName),
      );
  }

  /**
   * A client's Cancel is forwarded, and whatever the service then answers is relayed: the
   * gateway never makes up Canceled for a call still running upstream (libqi: a Cancel is a
   * request; a method that ignores it returns its result). The call stays in the client's
   * inflight table (its pending limit) until that answer, or the upstream connection's end.
   */
  cancel(link: ClientLink, msg: Message): void {
    const id = canceledCallId(msg);
    const call = id === undefined ? undefined : link.inflight.get(id);
    if (call === undefined || call.relayLate !== undefined || id === undefined) return;
    const relay = (late: Message) => {
      if (link.inflight.get(id) !== call) return this.releaseLateReply(call, late);
      link.inflight.delete(id);
      if (link.conn.isClosed) return this.releaseLateReply(call, late);
      if (late.type === MessageType.Reply) this.relayReply(call, late);
      else if (late.type === MessageType.Error)
        link.conn.replyError(call.clientCall(), decodeErrorPayload(late.payload));
      else link.conn.replyCanceled(call.clientCall());
    };
    call.relayLate = relay;
    // The connection forgets late answers when it closes: the client is told then.
    const lost = () => {
      if (link.inflight.get(id) !== call) return;
      link.inflight.delete(id);
      if (!link.conn.isClosed)
        link.conn.replyError(
          call.clientCall(),
          "The service's connection closed after the call was canceled; its outcome is unknown.",
        );
    };
    const waiting = this.awaitingLate(call.upstream);
    waiting.add(lost);
    call.upstream.cancelCall(call.upstreamId, CLIENT_CANCELED, (late) => {
      waiting.delete(lost);
      relay(late);
    });
  }

  /** Canceled calls of an upstream connection waiting for their answer; one close hook each. */
  private awaitingLate(conn: Connection): Set<() => void> {
    let set = this.lateByConn.get(conn);
    if (set === undefined) {
      const made = new Set<() => void>();
      set = made;
      this.lateByConn.set(conn, made);
      whenClosed(conn, () => {
        for (const lost of made) lost();
        made.clear();
      });
    }
    return set;
  }

  /** A client left: its calls in flight are given up on. */
  forgetClient(link: ClientLink): void {
    const left = new QiError("ERR_DISCONNECTED", "client left");
    for (const call of link.inflight.values()) this.cancelForwarded(call, left);
    link.inflight.clear();
  }

  /** A service went away: its calls in flight fail now. */
  forgetService(serviceId: number, name: string): void {
    this.serviceTargets.delete(serviceId);
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

  /** Answers (Calls) and drops requests of a client that has its limit of them pending. */
  private refusedAsTooMany(link: ClientLink, msg: Message): boolean {
    if (link.inflight.size + link.waiting < this.limits.maxPendingCalls) return false;
    this.metrics.refusedCall();
    if (msg.type === MessageType.Call)
      this.replies.error(
        link,
        msg,
        `Too many pending calls through the gateway (limit ${this.limits.maxPendingCalls}).`,
      );
    return true;
  }

  private mainTarget(conn: Connection, service: number, meta: Target["meta"], serviceName: string): Target {
    return { conn, service, objectId: 1, meta, serviceName, calls: this.metrics.serviceCalls(serviceName) };
  }

  private async resolveTarget(service: number, serviceName: string): Promise<Target> {
    const conn = await this.upstream.connectionFor(service);
    const meta = await this.upstream.metaObject(conn, service, 1);
    return this.mainTarget(conn, service, meta, serviceName);
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
      calls: this.metrics.serviceCalls(serviceName),
    };
  }

  /**
   * The service's Reply made the client's answer in place (its header readdressed, its payload
   * forwarded as it came unless it holds objects, which are mapped to the client's ids).
   */
  private relayReply(call: ForwardedCall, reply: Message): void {
    const link = call.link;
    const target = call.target;
    let out: Uint8Array;
    try {
      out = mapObjects(
        reply.payload,
        replyPayloadSignature(target.meta, call.action, reply),
        target.conn,
        link.conn,
        (ref) => this.objectMap.importUpstreamObject(link, target.conn, ref),
      );
    } catch (e) {
      this.replies.error(link, call.clientCall(), errorText(e));
      return;
    }
    if (out === reply.payload) passOn(out);
    else reply.payload = out;
    this.flow.relayAnswer(link, call.readdress(reply));
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
    const returnSig = replyPayloadSignature(call.target.meta, call.action, reply);
    if (returnSig === undefined) return;
    try {
      mapObjects(reply.payload, returnSig, conn, conn, (ref) => {
        // Held by a client already (the same object handed out twice), or one of a client's
        // own objects coming back: not ours to release.
        if (ref.objectId !== 0 && !this.objectMap.isKnown(conn, ref.serviceId, ref.objectId))
          postTerminate(conn, ref.serviceId, ref.objectId);
        return ref;
      });
    } catch (e) {
      // An undecodable late Reply holds nothing we could release.
      this.logger.debug({ err: errorText(e) }, "undecodable late reply");
    }
  }
}

/**
 * The gateway's router: forwards calls, posts, answers, cancels and events between external
 * clients and internal services. It wires its parts and owns no state of its own beyond the
 * set of clients:
 * - CallForwarder: client calls to services (targets, permissions, limits, fair shares);
 * - SignalFanout: one upstream subscription per signal, fanned out to every subscriber;
 * - ObjectMap: per-client ids for objects crossing the gateway, both ways;
 * - ReverseCalls: services calling objects their clients passed them;
 * - ClientFlow: what is queued toward each client (pausing, dropping, disconnecting);
 * - connection-hooks: the one place that hooks into a Connection.
 * Message ids are rewritten by the connections' own pending tables (every forwarded call is a
 * fresh call on the other side); payloads pass through untouched unless they may hold objects.
 */
import type { Logger } from "pino";
import { type Connection, errorText } from "../../connection/index.js";
import { Reserved, SUBSCRIPTION_RATE_ACTION } from "../../object/index.js";
import { type Message, MessageType } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Permissions } from "../permissions.js";
import { CallForwarder } from "./call-forwarder.js";
import { ClientFlow } from "./client-flow.js";
import { routeRequests, servedLocally, whenClosed } from "./connection-hooks.js";
import type { RouterLimits } from "./limits.js";
import { ObjectMap } from "./object-map.js";
import { Replies, UNHANDLED } from "./replies.js";
import { ReverseCalls } from "./reverse-calls.js";
import { SignalFanout } from "./signal-fanout.js";
import type { Target, UpstreamView } from "./target.js";

const EMPTY = new Uint8Array(0);
/** Client object ids from here are the client's own (spec §5.7); the router's ids stay below. */
const CLIENT_OWN_IDS = 0x80000000;

export class Router {
  readonly clients = new Set<ClientLink>();
  private readonly flow: ClientFlow;
  private readonly replies: Replies;
  private readonly objects: ObjectMap;
  private readonly calls: CallForwarder;
  private readonly signals: SignalFanout;
  private readonly reverse: ReverseCalls;

  constructor(
    upstream: UpstreamView,
    permissions: Permissions,
    private readonly metrics: GatewayMetrics,
    limits: RouterLimits,
    logger: Logger,
  ) {
    this.flow = new ClientFlow(limits, metrics, logger);
    this.replies = new Replies(upstream, metrics, logger);
    this.objects = new ObjectMap(upstream);
    this.calls = new CallForwarder(
      this.clients,
      upstream,
      permissions,
      metrics,
      limits,
      this.flow,
      this.objects,
      this.replies,
      logger,
    );
    this.signals = new SignalFanout(
      this.clients,
      permissions,
      metrics,
      limits,
      this.flow,
      this.objects,
      this.replies,
    );
    this.reverse = new ReverseCalls(this.objects);
  }

  addClient(link: ClientLink): void {
    this.clients.add(link);
    routeRequests(link.conn, (msg) => this.onClientRequest(link, msg));
  }

  removeClient(link: ClientLink): void {
    if (!this.clients.delete(link)) return;
    this.flow.forget(link);
    this.calls.forgetClient(link);
    this.signals.forgetClient(link);
    this.objects.forgetClient(link);
  }

  /** Installed on every upstream connection: calls addressed to clients' objects go to them. */
  adoptUpstream(conn: Connection): void {
    routeRequests(conn, (msg) => this.reverse.route(conn, msg));
    whenClosed(conn, () => {
      this.objects.forgetUpstream(conn);
      this.reverse.forgetUpstream(conn);
    });
  }

  /** A service went away: its subscriptions are gone, its calls in flight fail now. */
  onServiceRemoved(serviceId: number, name: string): void {
    this.signals.forgetService(serviceId);
    this.calls.forgetService(serviceId, name);
  }

  stats(): { clients: number; fanouts: number; upstreamObjects: number; exports: number } {
    return {
      clients: this.clients.size,
      fanouts: this.signals.count,
      upstreamObjects: this.objects.heldCount,
      exports: this.objects.exportCount,
    };
  }

  /** false: the request is the client's own object layer's (the connection's "serve" stage). */
  private onClientRequest(link: ClientLink, msg: Message): boolean {
    this.metrics.bytesIn(msg.payload.byteLength + 28);
    if (msg.type === MessageType.Cancel) {
      this.calls.cancel(link, msg);
      return true;
    }
    // The Service Directory view.
    if (msg.service === 1 && msg.object === 1) return false;
    // Objects handed to this client by a service it registered through the gateway (callbacks
    // of internal callers) are served on its own connection, by the proxies that pass them on.
    // Those take client-side ids (from 2^31); the router's own ids for the client stay below.
    if (msg.object >= CLIENT_OWN_IDS && servedLocally(link.conn, msg.service, msg.object)) return false;
    // A known service on an open connection is forwarded in this tick; the first call to a
    // service waits for its connection and MetaObject.
    const target = this.calls.targetOf(link, msg);
    if (target instanceof Promise)
      this.calls.whenResolved(link, msg, target, (t) => this.route(link, msg, t));
    else this.route(link, msg, target);
    return true;
  }

  /** `target` null: nothing this client may reach is there. */
  private route(link: ClientLink, msg: Message, target: Target | null): void {
    if (link.conn.isClosed) return;
    const isCall = msg.type === MessageType.Call;
    if (target === null || target.conn.isClosed) {
      if (isCall) this.replies.error(link, msg, UNHANDLED);
      return;
    }
    switch (msg.action) {
      case Reserved.registerEvent:
      case Reserved.registerEventWithSignature:
        if (isCall)
          this.signals.subscribe(link, target, msg).catch((e) => this.replies.error(link, msg, errorText(e)));
        return;
      case Reserved.unregisterEvent:
        // Malformed arguments make unsubscribe reject: answer them, or the call would hang and
        // the rejection go unhandled (found by test/gateway/fuzz.test.ts: an empty payload).
        if (isCall)
          this.signals.unsubscribe(link, msg).catch((e) => this.replies.error(link, msg, errorText(e)));
        return;
      case SUBSCRIPTION_RATE_ACTION:
        if (isCall) this.signals.setRate(link, msg);
        return;
      case Reserved.terminate:
        if (msg.object !== 1) this.objects.releaseClientObject(link, msg.object);
        if (isCall) link.conn.reply(msg, EMPTY);
        return;
    }
    this.calls.forward(link, msg, target);
  }
}

/**
 * Signal fan-out: one upstream subscription per (connection, service, object, signal), always
 * a plain registerEvent, shared by every client subscribed to that signal. Each upstream event
 * costs one map lookup (the handler of its object holds its signals by uid), whatever the
 * number of fan-outs open, and is handed to each subscribed client once, converted here for
 * clients that asked for another signature (so no two upstream subscriptions can deliver each
 * other's events).
 */
import type { Address, Connection } from "../../connection/index.js";
import {
  checkSubscriptionRate,
  Reserved,
  SUBSCRIPTION_RATE_SIGNATURE,
  subscriptionArgs,
} from "../../object/index.js";
import {
  convertValue,
  decode,
  defaultValue,
  encode,
  type Message,
  MessageFlags,
  mayContainObject,
  parseSignature,
} from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Permissions } from "../permissions.js";
import type { ClientFlow } from "./client-flow.js";
import { listenToEvents, whenClosed } from "./connection-hooks.js";
import type { RouterLimits } from "./limits.js";
import { isManageable } from "./member-rights.js";
import { Index3 } from "./nested-maps.js";
import type { ObjectMap } from "./object-map.js";
import { convertEvent, ctxOf, mapObjects } from "./payloads.js";
import type { Replies } from "./replies.js";
import { HeldEvents, SubscriberPacer } from "./subscriber-pacer.js";
import type { Target } from "./target.js";

const EMPTY = new Uint8Array(0);
const NO_LINK = 0xffffffffffffffffn;

/** One client's share of a fan-out. */
interface Subscriber {
  clientObjectId: number;
  /** Where its events go on its connection (the fan-out's signal, the client's object id). */
  address: Address;
  /** The client's link ids → the signature it wants the events in (registerEventWithSignature). */
  links: Map<bigint, string | undefined>;
  /** Its rate, latest-only, and events held back behind answers (subscriber-pacer.ts). */
  pacer: SubscriberPacer;
}

export interface Fanout {
  conn: Connection;
  service: number;
  objectId: number;
  signal: number;
  signature: string;
  upstreamLink: bigint;
  ready: Promise<void>;
  subscribers: Map<ClientLink, Subscriber>;
}

/** The fan-outs of one remote object, by signal uid: what its event handler looks events up in. */
type ObjectSignals = Map<number, Fanout>;

let nextUpstreamLink = 1n;

function isSameSignal(f: Fanout, g: Fanout): boolean {
  return f.conn === g.conn && f.service === g.service && f.objectId === g.objectId && f.signal === g.signal;
}

export class SignalFanout {
  /** (upstream connection, service, object) → its signals; an event handler is installed for each. */
  private readonly objects = new Index3<Connection, number, number, ObjectSignals>();
  private readonly watched = new WeakSet<Connection>();
  /** Per client: the events of its unpaced subscriptions held behind answers (subscriber-pacer.ts). */
  private readonly heldEvents = new WeakMap<ClientLink, HeldEvents>();

  constructor(
    private readonly clients: ReadonlySet<ClientLink>,
    private readonly permissions: Permissions,
    private readonly metrics: GatewayMetrics,
    private readonly limits: RouterLimits,
    private readonly flow: ClientFlow,
    private readonly objectMap: ObjectMap,
    private readonly replies: Replies,
  ) {}

  /** Upstream subscriptions open. */
  get count(): number {
    let n = 0;
    for (const signals of this.objects.values()) n += signals.size;
    return n;
  }

  async subscribe(link: ClientLink, target: Target, msg: Message): Promise<void> {
    const { signal, link: clientLinkId, wanted } = subscriptionArgs(msg);
    const meta = target.meta.signals.get(signal);
    if (!meta) {
      this.replies.error(link, msg, `Cannot find signal #${signal} on object {${msg.service}.${msg.object}}`);
      return;
    }
    const allowed = isManageable(signal)
      ? this.permissions.isAdmin(link.identity)
      : this.permissions.allows(link.identity, "subscribe", `${target.serviceName}.${meta.name}`);
    if (!allowed) {
      this.replies.error(
        link,
        msg,
        `Permission denied: cannot subscribe to ${target.serviceName}.${meta.name}.`,
      );
      return;
    }
    if (wanted !== undefined) {
      const refusal = this.refuseWantedSignature(wanted, meta.signature);
      if (refusal) {
        this.replies.error(link, msg, `Cannot subscribe to ${target.serviceName}.${meta.name}: ${refusal}`);
        return;
      }
    }
    const signals = this.signalsOf(target.conn, target.service, target.objectId);
    // A link id names one subscription of this client on this object; reused for another
    // signal, the first subscription could no longer be found to end (found by the fuzz test).
    const taken = link.subscriptions.get(msg.service, msg.object, clientLinkId);
    const isThisSignal = (f: Fanout) =>
      f.conn === target.conn &&
      f.service === target.service &&
      f.objectId === target.objectId &&
      f.signal === signal;
    if (taken !== undefined && !isThisSignal(taken)) {
      this.replies.error(link, msg, `Signal link ${clientLinkId} is already in use on this object.`);
      return;
    }
    if (taken === undefined && link.subscriptions.size + link.subscribing >= this.limits.maxSubscriptions) {
      this.metrics.refusedCall();
      this.replies.error(
        link,
        msg,
        `Too many subscriptions through the gateway (limit ${this.limits.maxSubscriptions}).`,
      );
      return;
    }
    let f = signals.get(signal);
    if (!f) {
      f = this.open(target, signal, meta.signature);
      signals.set(signal, f);
      const opened = f;
      opened.ready.catch(() => {
        if (signals.get(signal) === opened) signals.delete(signal);
      });
    }
    link.subscribing++;
    try {
      await f.ready;
    } catch (e) {
      this.replies.error(link, msg, this.replies.unavailable(target.service, e, target.serviceName));
      return;
    } finally {
      link.subscribing--;
    }
    // The client may have left, or taken the link id for another signal, while upstream
    // answered; the fanout may have been dropped meanwhile by another subscriber that left.
    if (signals.get(signal) !== f && this.clients.has(link)) {
      await this.subscribe(link, target, msg);
      return;
    }
    const takenMeanwhile = link.subscriptions.get(msg.service, msg.object, clientLinkId);
    if (!this.clients.has(link) || (takenMeanwhile !== undefined && !isSameSignal(takenMeanwhile, f))) {
      // An upstream subscription nobody ended up wanting is ended at once.
      if (f.subscribers.size === 0) this.drop(f, true);
      if (this.clients.has(link))
        this.replies.error(link, msg, `Signal link ${clientLinkId} is already in use on this object.`);
      return;
    }
    let sub = f.subscribers.get(link);
    if (!sub) {
      sub = this.subscriber(f, link, msg.object);
      f.subscribers.set(link, sub);
    }
    sub.links.set(clientLinkId, wanted);
    link.subscriptions.set(msg.service, msg.object, clientLinkId, f);
    link.conn.reply(msg, encode("L", clientLinkId));
  }

  async unsubscribe(link: ClientLink, msg: Message): Promise<void> {
    const clientLinkId = subscriptionArgs(msg).link;
    if (clientLinkId === NO_LINK) {
      link.conn.reply(msg, EMPTY);
      return;
    }
    const f = link.subscriptions.get(msg.service, msg.object, clientLinkId);
    if (f === undefined) {
      this.replies.error(
        link,
        msg,
        `Unregister request failed for ${msg.service}.${msg.object} link ${clientLinkId}`,
      );
      return;
    }
    link.subscriptions.delete(msg.service, msg.object, clientLinkId);
    const sub = f.subscribers.get(link);
    sub?.links.delete(clientLinkId);
    if (sub && sub.links.size === 0) {
      sub.pacer.dispose();
      f.subscribers.delete(link);
    }
    if (f.subscribers.size === 0) this.drop(f, true);
    link.conn.reply(msg, EMPTY);
  }

  /** A client left: its share of every fan-out goes, and fan-outs nobody else uses close. */
  forgetClient(link: ClientLink): void {
    for (const f of new Set(link.subscriptions.values())) {
      f.subscribers.get(link)?.pacer.dispose();
      f.subscribers.delete(link);
      if (f.subscribers.size === 0) this.drop(f, true);
    }
    link.subscriptions.clear();
    this.heldEvents.get(link)?.dispose();
    this.heldEvents.delete(link);
  }

  /** A service went away: its subscriptions are gone (upstream ended them itself). */
  forgetService(serviceId: number): void {
    for (const [, perConn] of [...this.objects.branches()]) {
      const perObject = perConn.branch(serviceId);
      if (perObject === undefined) continue;
      for (const signals of [...perObject.values()])
        for (const f of [...signals.values()]) this.drop(f, false);
    }
  }

  private open(target: Target, signal: number, signature: string): Fanout {
    const upstreamLink = nextUpstreamLink++;
    return {
      conn: target.conn,
      service: target.service,
      objectId: target.objectId,
      signal,
      signature,
      upstreamLink,
      subscribers: new Map(),
      ready: target.conn
        .call(
          { service: target.service, object: target.objectId, action: Reserved.registerEvent },
          encode("(IIL)", [target.service, signal, upstreamLink]),
        )
        .then(() => {}),
    };
  }

  /** Ends a fan-out: its clients' entries go, and upstream is told (unless it is gone). */
  private drop(f: Fanout, unregisterUpstream: boolean): void {
    const signals = this.objects.get(f.conn, f.service, f.objectId);
    if (signals?.get(f.signal) !== f) return;
    signals.delete(f.signal);
    if (signals.size === 0 && f.conn.isClosed) this.objects.delete(f.conn, f.service, f.objectId);
    for (const [link, sub] of f.subscribers) {
      sub.pacer.dispose();
      for (const id of sub.links.keys()) {
        if (link.subscriptions.get(f.service, sub.clientObjectId, id) === f)
          link.subscriptions.delete(f.service, sub.clientObjectId, id);
      }
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

  /** The signals of a remote object, with its event handler installed on first use. */
  private signalsOf(conn: Connection, service: number, objectId: number): ObjectSignals {
    const known = this.objects.get(conn, service, objectId);
    if (known !== undefined) return known;
    const signals: ObjectSignals = new Map();
    this.objects.set(conn, service, objectId, signals);
    listenToEvents(conn, service, objectId, (msg) => {
      const f = signals.get(msg.action);
      if (f !== undefined) this.deliver(f, msg);
    });
    if (!this.watched.has(conn)) {
      this.watched.add(conn);
      // Fan-outs on a closed connection stay until their clients end them; the objects with
      // none are forgotten now.
      whenClosed(conn, () => {
        const perConn = this.objects.branch(conn);
        if (perConn === undefined) return;
        for (const [s, perObject] of [...perConn.branches()])
          for (const [o, sigs] of [...perObject]) if (sigs.size === 0) this.objects.delete(conn, s, o);
      });
    }
    return signals;
  }

  /**
   * A subscriber's pacing (member 87, object/subscription-rate.ts): (service, signal, link,
   * maxRate Hz, latestOnly) for one of the client's subscriptions on this object.
   */
  setRate(link: ClientLink, msg: Message): void {
    let args: unknown[];
    try {
      args = decode(SUBSCRIPTION_RATE_SIGNATURE, msg.payload) as unknown[];
    } catch {
      this.replies.error(link, msg, `Malformed subscription rate: ${SUBSCRIPTION_RATE_SIGNATURE} expected.`);
      return;
    }
    const [, , clientLinkId, maxRate, latestOnly] = args as [number, number, bigint, number, boolean];
    const f = link.subscriptions.get(msg.service, msg.object, BigInt(clientLinkId));
    const sub = f?.subscribers.get(link);
    if (sub === undefined) {
      this.replies.error(
        link,
        msg,
        `No subscription with link ${clientLinkId} on ${msg.service}.${msg.object}.`,
      );
      return;
    }
    try {
      checkSubscriptionRate({ maxRate });
    } catch (e) {
      this.replies.error(link, msg, (e as Error).message);
      return;
    }
    sub.pacer.configure(maxRate, latestOnly);
    link.conn.reply(msg, EMPTY);
  }

  private subscriber(f: Fanout, link: ClientLink, clientObjectId: number): Subscriber {
    const sub: Subscriber = {
      clientObjectId,
      address: { service: f.service, object: clientObjectId, action: f.signal },
      links: new Map(),
      pacer: new SubscriberPacer(
        this.limits.streamQueueBytes,
        {
          queued: () => link.conn.channel.bufferedBytes,
          send: (payload, flags) => this.sendTo(f, link, sub, payload, flags),
          dropped: (bytes) => this.flow.replacedHeldEvent(link, bytes, sub.links.size),
          alive: () => !link.conn.isClosed && f.subscribers.get(link) === sub,
        },
        this.heldEventsOf(link),
      ),
    };
    return sub;
  }

  /** The queue of a client's unpaced events (made on its first subscription). */
  private heldEventsOf(link: ClientLink): HeldEvents {
    let held = this.heldEvents.get(link);
    if (held === undefined) {
      held = new HeldEvents(this.limits.streamQueueBytes, this.limits.maxQueuedBytes);
      this.heldEvents.set(link, held);
    }
    return held;
  }

  /** One upstream Event, to every client subscribed to its signal, each at its own pace. */
  private deliver(f: Fanout, msg: Message): void {
    for (const sub of f.subscribers.values()) sub.pacer.offer(msg.payload, msg.flags);
  }

  /** An event going out to one client now: objects mapped, converted per link as asked. */
  private sendTo(
    f: Fanout,
    link: ClientLink,
    sub: Subscriber,
    upstreamPayload: Uint8Array,
    flags: number,
  ): void {
    const sig = flags & MessageFlags.DynamicPayload ? "m" : f.signature;
    if (!this.flow.admitEvent(link, upstreamPayload.byteLength, sub.links.size)) return;
    let payload = upstreamPayload;
    if (mayContainObject(sig)) {
      try {
        payload = mapObjects(upstreamPayload, sig, f.conn, link.conn, (ref) =>
          this.objectMap.importUpstreamObject(link, f.conn, ref),
        );
      } catch {
        return;
      }
    }
    for (const wanted of sub.links.values()) {
      if (wanted === undefined) {
        link.conn.sendEvent(sub.address, payload, flags);
        this.metrics.bytesOut(payload.byteLength + 28);
        continue;
      }
      const converted = convertEvent(payload, sig, wanted, ctxOf(link.conn));
      if (converted === undefined) continue;
      link.conn.sendEvent(sub.address, converted, MessageFlags.DynamicPayload);
      this.metrics.bytesOut(converted.byteLength + 28);
    }
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
}

/**
 * A proxy passed on to another peer (spec §5.7): when this process hands a RemoteObject it got
 * from peer A to peer B (as an argument or a result), B gets a reference to an object served
 * here that forwards to A. Calls go through as they are when their signatures hold no object;
 * otherwise their arguments and results are decoded on one side and re-encoded for the other,
 * so objects inside are passed on the same way. B's signal subscriptions become subscriptions
 * of the proxy, and `terminate` from B forgets the forwarder (A's object lives on with the
 * proxy).
 */
import type { Connection } from "../connection/index.js";
import { canceledCallId, errorText } from "../connection/connection.js";
import { QiError } from "../connection/errors.js";
import { encode } from "../wire/index.js";
import { type Message, MessageType } from "../wire/index.js";
import { META_OBJECT_SIGNATURE } from "../wire/index.js";
import type { RequestForwarder } from "./forwarder.js";
import type { PeerObjects } from "./peer.js";
import { answerForwarded, eventSignatureOf, forwardedParams, forwardedReturns, passOn } from "./relay.js";
import type { RemoteObject } from "./remote-object.js";
import { Reserved, subscriptionArgs } from "./reserved.js";

const EMPTY = new Uint8Array(0);

/** How many PassedOnProxies forward to each proxy. */
const holders = new WeakMap<RemoteObject, number>();
/** Proxies only held to be passed on (by the gateway): released with their last forwarder. */
const releasedWithLastHolder = new WeakSet<RemoteObject>();

/**
 * `target` is held by nothing but the forwarders it is passed on through: when the last of
 * them is dropped (terminate, or its peer left), the proxy is released and its host told, so
 * a terminate from B reaches A's object.
 */
export function releaseWithLastPassedOnProxy(target: RemoteObject): void {
  releasedWithLastHolder.add(target);
}

export class PassedOnProxy implements RequestForwarder {
  readonly uid: Uint8Array;
  private readonly calls = new Map<number, number>();
  /** B's subscriptions: B's link → the proxy's local listener. */
  private readonly subscriptions = new Map<bigint, { signal: number; local: number }>();
  private disposed = false;

  constructor(
    /** The proxy of A's object. */
    readonly target: RemoteObject,
    /** This connection's object state (toward B). */
    private readonly here: PeerObjects,
    /** Where B addresses it. */
    readonly serviceId: number,
    readonly objectId: number,
  ) {
    this.uid = target.uid ?? new Uint8Array(20);
    holders.set(target, (holders.get(target) ?? 0) + 1);
  }

  forwardRequest(msg: Message, from: Connection): void {
    const isCall = msg.type === MessageType.Call;
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      const upstreamId = id === undefined ? undefined : this.calls.get(id);
      if (upstreamId !== undefined)
        this.target.peer.conn.cancelCall(upstreamId, new QiError("ERR_CANCELED", "canceled by the caller"));
      return;
    }
    try {
      switch (msg.action) {
        case Reserved.metaObject:
          if (isCall) from.reply(msg, encode(META_OBJECT_SIGNATURE, this.target.metaObject));
          return;
        case Reserved.terminate:
          this.dispose();
          if (isCall) from.reply(msg, EMPTY);
          return;
        case Reserved.registerEvent:
        case Reserved.registerEventWithSignature:
          if (isCall) this.subscribe(msg, from);
          return;
        case Reserved.unregisterEvent:
          if (isCall) this.unsubscribe(msg, from);
          return;
      }
      this.forward(msg, from);
    } catch (e) {
      if (isCall && !from.isClosed) from.replyError(msg, errorText(e));
    }
  }

  /** B dropped it (terminate) or left: its subscriptions end here. */
  dispose(): void {
    for (const [link, sub] of this.subscriptions) {
      this.subscriptions.delete(link);
      void this.target.disconnectSignal(sub.signal, sub.local);
    }
    this.here.unexport(this.serviceId, this.objectId);
    if (this.disposed) return;
    this.disposed = true;
    const left = (holders.get(this.target) ?? 1) - 1;
    holders.set(this.target, left);
    if (left === 0 && releasedWithLastHolder.has(this.target)) this.target.release();
  }

  private forward(msg: Message, from: Connection): void {
    const meta = this.target.metaObject;
    const there = this.target.peer;
    const here = this.here.codecContext(this.serviceId, "host");
    const params = forwardedParams(meta, msg);
    const payload =
      params === undefined
        ? msg.payload
        : passOn(params, msg.payload, here, there.codecContext(this.target.serviceId, "client"));
    const address = { service: this.target.serviceId, object: this.target.objectId, action: msg.action };
    if (msg.type !== MessageType.Call) {
      there.conn.post(address, payload, msg.flags);
      return;
    }
    const { id, answer } = there.conn.startCall(address, payload, { flags: msg.flags });
    this.calls.set(msg.id, id);
    answerForwarded(
      msg,
      from,
      answer,
      (reply) => {
        const returns = forwardedReturns(meta, msg.action, reply);
        return returns === undefined
          ? reply.payload
          : passOn(returns, reply.payload, there.codecContext(this.target.serviceId, "client"), here);
      },
      () => this.calls.delete(msg.id),
    );
  }

  private subscribe(msg: Message, from: Connection): void {
    const { signal, link } = subscriptionArgs(msg);
    const eventSignature = eventSignatureOf(this.target.metaObject, signal);
    if (eventSignature === undefined) {
      from.replyError(msg, `Cannot find signal #${signal} on object {${this.serviceId}.${this.objectId}}`);
      return;
    }
    const address = { service: this.serviceId, object: this.objectId, action: signal };
    this.target
      .connectSignal(signal, eventSignature, (...values: unknown[]) => {
        if (from.isClosed) return;
        try {
          from.sendEvent(
            address,
            encode(eventSignature, values, this.here.codecContext(this.serviceId, "host")),
          );
        } catch {
          // an emission that cannot be re-encoded for B is dropped for B only
        }
      })
      .then(
        (local) => {
          this.subscriptions.set(link, { signal, local });
          if (!from.isClosed) from.reply(msg, encode("L", link));
        },
        (e) => {
          if (!from.isClosed) from.replyError(msg, errorText(e));
        },
      );
  }

  private unsubscribe(msg: Message, from: Connection): void {
    const { link } = subscriptionArgs(msg);
    const sub = this.subscriptions.get(link);
    if (sub) {
      this.subscriptions.delete(link);
      void this.target.disconnectSignal(sub.signal, sub.local);
    }
    from.reply(msg, EMPTY);
  }
}

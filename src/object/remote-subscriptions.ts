/**
 * The signal side of a RemoteObject (spec §5.6): one remote subscription per signal, shared by
 * its local listeners; registered again after a reconnection, paced on request (member 87),
 * and each Event decoded once and handed to every listener.
 */
import { decode, encode } from "../wire/index.js";
import { type Message, MessageFlags } from "../wire/index.js";
import type { Dynamic } from "../wire/index.js";
import type { PeerObjects } from "./peer.js";
import { Reserved } from "./reserved.js";
import {
  checkSubscriptionRate,
  SUBSCRIPTION_RATE_ACTION,
  SUBSCRIPTION_RATE_SIGNATURE,
  type SubscriptionRate,
} from "./subscription-rate.js";

// biome-ignore lint/suspicious/noExplicitAny: implementations declare their own parameter types
export type SignalCallback = (...args: any[]) => void;

/** What the subscriptions need of their proxy (its current binding, which a rebind changes). */
export interface SubscriptionOwner {
  readonly peer: PeerObjects;
  readonly serviceId: number;
  readonly objectId: number;
}

interface SignalSubscription {
  uid: number;
  signature: string;
  listeners: Map<number, SignalCallback>;
  /** The link id we registered with; undefined while registering. */
  remoteLink: bigint | undefined;
  registering: Promise<void> | undefined;
  /** Pacing asked of the gateway for this subscription (sent again after a reconnection). */
  rate: SubscriptionRate | undefined;
  /** latestOnly: the newest event of the current batch, delivered once the batch is read. */
  latest: unknown[] | undefined;
}

let nextLocalLink = 1;

export class SignalSubscriptions {
  private readonly subscriptions = new Map<number, SignalSubscription>();

  constructor(private readonly owner: SubscriptionOwner) {}

  /** How many signals hold a remote subscription (each registered once). */
  get size(): number {
    return this.subscriptions.size;
  }

  /** Adds a local listener; the first one registers the remote subscription. */
  async connect(
    uid: number,
    signature: string,
    callback: SignalCallback,
    rate?: SubscriptionRate,
  ): Promise<number> {
    if (rate !== undefined) checkSubscriptionRate(rate);
    let sub = this.subscriptions.get(uid);
    if (!sub) {
      sub = {
        uid,
        signature,
        listeners: new Map(),
        remoteLink: undefined,
        registering: undefined,
        rate,
        latest: undefined,
      };
      this.subscriptions.set(uid, sub);
      this.registerRemote(sub, true);
    } else if (rate !== undefined) {
      // One remote subscription per signal: the last pacing asked for is the one.
      sub.rate = rate;
      const s = sub;
      sub.registering = (sub.registering ?? Promise.resolve()).then(() => this.sendRate(s));
    }
    const localId = nextLocalLink++;
    sub.listeners.set(localId, callback);
    try {
      await this.owner.peer.dispatcher.yieldWhile(sub.registering ?? Promise.resolve());
    } catch (e) {
      sub.listeners.delete(localId);
      throw e;
    }
    return localId;
  }

  /** Removes a local listener; the last one unregisters the remote subscription. */
  async disconnect(uid: number, localId: number): Promise<void> {
    const sub = this.subscriptions.get(uid);
    if (!sub?.listeners.delete(localId)) return;
    if (sub.listeners.size > 0) return;
    this.subscriptions.delete(uid);
    await sub.registering?.catch(() => {});
    if (sub.remoteLink !== undefined && !this.owner.peer.conn.isClosed)
      await this.owner.peer.dispatcher.yieldWhile(this.unregister(uid, sub.remoteLink));
  }

  /** The service went away: links a host may still serve are ended; the listeners stay. */
  suspend(): void {
    for (const sub of this.subscriptions.values()) {
      // A host that still serves the object would keep delivering to the old link: end it.
      if (sub.remoteLink !== undefined && !this.owner.peer.conn.isClosed)
        this.unregister(sub.uid, sub.remoteLink);
      sub.remoteLink = undefined;
      sub.registering = undefined;
    }
  }

  /**
   * The proxy is bound again: every signal with local listeners that `exists` still is
   * registered again, once; resolves when all registrations are answered.
   */
  registerAgain(exists: (uid: number) => boolean): Promise<void> {
    const again: Promise<void>[] = [];
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.listeners.size === 0 || !exists(sub.uid)) {
        this.subscriptions.delete(sub.uid);
        continue;
      }
      this.registerRemote(sub);
      again.push(sub.registering!.catch(() => {}));
    }
    return Promise.all(again).then(() => {});
  }

  /** The proxy is released: every remote subscription ends and the listeners go. */
  release(): void {
    for (const sub of this.subscriptions.values())
      if (sub.remoteLink !== undefined) this.unregister(sub.uid, sub.remoteLink);
    this.subscriptions.clear();
  }

  /** The connection closed: no link is valid any more; the listeners stay for a rebind. */
  forgetLinks(): void {
    for (const sub of this.subscriptions.values()) {
      sub.remoteLink = undefined;
      sub.registering = undefined;
    }
  }

  /** registerEvent for one subscription on the current connection (spec §5.6). */
  private registerRemote(sub: SignalSubscription, forgetOnFailure = false): void {
    const { serviceId, objectId } = this.owner;
    const uid = sub.uid;
    const link = (BigInt(uid) << 32n) | BigInt(nextLocalLink++ & 0xffffffff);
    const conn = this.owner.peer.conn;
    sub.remoteLink = undefined;
    sub.registering = conn
      .call(
        { service: serviceId, object: objectId, action: Reserved.registerEvent },
        encode("(IIL)", [serviceId, uid, link]),
      )
      .then(() => {
        // Rebound meanwhile: this link belongs to a connection the proxy left.
        if (this.owner.peer.conn !== conn) return;
        sub.remoteLink = link;
        return this.sendRate(sub);
      })
      .catch((e) => {
        if (forgetOnFailure && this.subscriptions.get(uid) === sub) this.subscriptions.delete(uid);
        throw e;
      });
  }

  /**
   * Asks the gateway to pace this subscription (subscription-rate.ts). A peer that does not
   * know member 87 answers an Error: the events then come unpaced (latestOnly still holds
   * here, for what arrives in one read).
   */
  private sendRate(sub: SignalSubscription): Promise<void> {
    const rate = sub.rate;
    if (rate === undefined || sub.remoteLink === undefined) return Promise.resolve();
    const { peer, serviceId, objectId } = this.owner;
    return peer.conn
      .call(
        { service: serviceId, object: objectId, action: SUBSCRIPTION_RATE_ACTION },
        encode(SUBSCRIPTION_RATE_SIGNATURE, [
          serviceId,
          sub.uid,
          sub.remoteLink,
          rate.maxRate ?? 0,
          rate.latestOnly === true,
        ]),
      )
      .then(
        () => {},
        () => {},
      );
  }

  private unregister(uid: number, link: bigint): Promise<void> {
    const { peer, serviceId, objectId } = this.owner;
    return peer.conn
      .call(
        { service: serviceId, object: objectId, action: Reserved.unregisterEvent },
        encode("(IIL)", [serviceId, uid, link]),
      )
      .then(
        () => {},
        () => {},
      );
  }

  /** An Event for this object (the connection's event handler). */
  onEvent(msg: Message): void {
    const sub = this.subscriptions.get(msg.action);
    if (!sub || sub.listeners.size === 0) return;
    let args: unknown[];
    try {
      const ctx = this.owner.peer.codecContext(this.owner.serviceId, "client");
      if (msg.flags & MessageFlags.DynamicPayload || sub.signature === "m") {
        const d = decode("m", msg.payload, ctx) as Dynamic;
        args = Array.isArray(d.value) ? d.value : [d.value];
      } else {
        args = decode(sub.signature, msg.payload, ctx) as unknown[];
      }
    } catch {
      return; // an undecodable event is dropped; the connection goes on
    }
    if (sub.rate?.latestOnly) {
      // Events read in one go (a backlog in the socket after the app was busy): only the
      // newest is delivered, once the batch has been read.
      const first = sub.latest === undefined;
      sub.latest = args;
      // A timer, not setImmediate: the browser bundle runs this too. Either way it fires after
      // the reads of this turn of the event loop.
      if (first)
        setTimeout(() => {
          const newest = sub.latest;
          sub.latest = undefined;
          if (newest !== undefined) this.deliver(sub, newest);
        }, 0);
      return;
    }
    this.deliver(sub, args);
  }

  private deliver(sub: SignalSubscription, args: unknown[]): void {
    const dispatcher = this.owner.peer.dispatcher;
    for (const cb of sub.listeners.values()) dispatcher.deliver(() => cb(...args));
  }
}

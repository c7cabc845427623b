/**
 * One service hosted by an external client, as the internal network sees it: a
 * RequestForwarder registered in the internal Service Directory by the gateway's session.
 * Requests go, as raw bytes, over the connection the client already has (ClientServerSocket,
 * spec §5.1); the gateway never needs to reach the client.
 *
 * Two ids: the owner serves its object under the id it was given first (`ownerId`, forever),
 * while the directory may have given another one since it restarted (`internalId`).
 * Everything sent to the owner carries `ownerId`; everything sent inside carries `internalId`.
 *
 * Signals: one subscription at the owner per signal, fanned out to every internal subscriber
 * (like the router does the other way). Objects passed by reference, either way, are passed
 * on by PassedOnProxies of the connections' own object states (spec §5.7), as any process
 * passes on a proxy it got from one peer to another.
 */
import type { Connection } from "../connection/index.js";
import { canceledCallId, errorText } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import type { RequestForwarder } from "../object/index.js";
import { releaseWithLastPassedOnProxy } from "../object/index.js";
import { PeerObjects } from "../object/index.js";
import {
  answerForwarded,
  eventSignatureOf,
  forwardedParams,
  forwardedReturns,
  passOn,
} from "../object/index.js";
import { RemoteObject } from "../object/index.js";
import { Reserved, subscriptionArgs } from "../object/index.js";
import type { CodecContext } from "../wire/index.js";
import { decode, encode } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import type { MetaObject } from "../wire/index.js";
import { mayContainObject } from "../wire/index.js";
import type { ClientLink } from "./client-link.js";
import { ConnectionNumbers } from "./connection-numbers.js";

const EMPTY = new Uint8Array(0);

/** An internal subscriber of a signal of an external service. */
interface InternalSubscriber {
  conn: Connection;
  link: bigint;
}

interface SignalFanout {
  upstreamLink: bigint;
  ready: Promise<unknown>;
  subscribers: Map<string, InternalSubscriber>;
}

let nextExternalLink = 1n;

export class ExternalService implements RequestForwarder {
  readonly uid: Uint8Array;
  /** The id the owner was given by registerService and serves its object under. */
  ownerId = 0;
  /** The id in the current directory; 0 while not registered there (directory away). */
  internalId = 0;
  /** The owner asked for serviceReady (so a re-registration makes it ready too). */
  announced = false;
  private readonly calls = new Map<string, number>();
  private readonly signals = new Map<number, SignalFanout>();
  private readonly watched = new WeakSet<Connection>();
  private readonly connNumbers = new ConnectionNumbers();

  /** Read from the owner when it declares the service ready. */
  meta: MetaObject = { methods: new Map(), signals: new Map(), properties: new Map(), description: "" };

  constructor(
    readonly name: string,
    readonly owner: ClientLink,
    uid: Uint8Array,
  ) {
    this.uid = uid;
  }

  private get host(): Connection {
    return this.owner.conn;
  }

  forwardRequest(msg: Message, from: Connection): void {
    if (msg.type === MessageType.Cancel) {
      const id = canceledCallId(msg);
      if (id === undefined) return;
      const upstreamId = this.calls.get(`${this.connNumbers.of(from)}.${id}`);
      if (upstreamId !== undefined)
        this.host.cancelCall(upstreamId, new QiError("ERR_CANCELED", "canceled by the caller"));
      return;
    }
    const isCall = msg.type === MessageType.Call;
    const refuse = (text: string) => {
      if (isCall) from.replyError(msg, text);
    };
    if (this.host.isClosed) {
      refuse(`Service "${this.name}" is gone.`);
      return;
    }
    if (msg.object !== 1) {
      refuse("The call request could not be handled.");
      return;
    }
    switch (msg.action) {
      case Reserved.registerEvent:
      case Reserved.registerEventWithSignature:
        if (isCall) this.subscribe(msg, from);
        return;
      case Reserved.unregisterEvent:
        if (isCall) this.unsubscribe(msg, from);
        return;
    }
    const params = forwardedParams(this.meta, msg);
    let payload = msg.payload;
    if (params !== undefined) {
      try {
        payload = passOnHeld(params, payload, this.internalSide(from), this.ownerSide());
      } catch (e) {
        refuse(errorText(e));
        return;
      }
    }
    const address = { service: this.ownerId, object: 1, action: msg.action };
    if (!isCall) {
      this.host.post(address, payload, msg.flags);
      return;
    }
    const { id, answer } = this.host.startCall(address, payload, { flags: msg.flags });
    const key = `${this.connNumbers.of(from)}.${msg.id}`;
    this.calls.set(key, id);
    answerForwarded(
      msg,
      from,
      answer,
      (reply) => {
        const returns = forwardedReturns(this.meta, msg.action, reply);
        return returns === undefined
          ? reply.payload
          : passOnHeld(returns, reply.payload, this.ownerSide(), this.internalSide(from));
      },
      () => this.calls.delete(key),
    );
  }

  /**
   * The directory went away, and its clients with it (they reached us through the gateway's
   * session, closed now): their calls are given up and the owner's subscriptions dropped.
   */
  detach(): void {
    this.internalId = 0;
    this.endInternalUse(new QiError("ERR_DISCONNECTED", "the service directory went away"));
  }

  /** The owner went away or unregistered: internal subscribers get nothing more. */
  dispose(): void {
    this.endInternalUse(new QiError("ERR_DISCONNECTED", `service "${this.name}" was unregistered`));
    this.host.setEventHandler(this.ownerId, 1, undefined);
  }

  private endInternalUse(reason: QiError): void {
    for (const upstreamId of this.calls.values()) this.host.cancelCall(upstreamId, reason);
    this.calls.clear();
    for (const [signal, fanout] of [...this.signals]) this.dropFanout(signal, fanout);
  }

  /** Codec context toward the owner: its objects become proxies, objects given to it PassedOnProxies. */
  private ownerSide(): CodecContext | undefined {
    return PeerObjects.of(this.host)?.codecContext(this.ownerId, "client");
  }

  /** Codec context toward an internal caller, which sees the service under `internalId`. */
  private internalSide(conn: Connection): CodecContext | undefined {
    return PeerObjects.of(conn)?.codecContext(this.internalId, "host");
  }

  private subscribe(msg: Message, from: Connection): void {
    const { signal, link } = subscriptionArgs(msg);
    if (!this.meta.signals.has(signal) && !this.meta.properties.has(signal)) {
      from.replyError(msg, `Cannot find signal #${signal} on object {${msg.service}.1}`);
      return;
    }
    let fanout = this.signals.get(signal);
    if (!fanout) {
      const upstreamLink = nextExternalLink++;
      const created: SignalFanout = {
        upstreamLink,
        subscribers: new Map(),
        ready: this.host.call(
          { service: this.ownerId, object: 1, action: Reserved.registerEvent },
          encode("(IIL)", [this.ownerId, signal, upstreamLink]),
        ),
      };
      created.ready.catch(() => {
        if (this.signals.get(signal) === created) this.signals.delete(signal);
      });
      this.signals.set(signal, created);
      this.host.setEventHandler(this.ownerId, 1, (ev) => this.onEvent(ev));
      fanout = created;
    }
    const subscriberKey = `${this.connNumbers.of(from)}.${link}`;
    fanout.subscribers.set(subscriberKey, { conn: from, link });
    this.watch(from);
    fanout.ready.then(
      () => {
        if (!from.isClosed) from.reply(msg, encode("L", link));
      },
      (e) => {
        fanout.subscribers.delete(subscriberKey);
        if (!from.isClosed) from.replyError(msg, errorText(e));
      },
    );
  }

  private unsubscribe(msg: Message, from: Connection): void {
    const { signal, link } = subscriptionArgs(msg);
    this.dropSubscriber(signal, `${this.connNumbers.of(from)}.${link}`);
    from.reply(msg, EMPTY);
  }

  private dropSubscriber(signal: number, subscriberKey: string): void {
    const fanout = this.signals.get(signal);
    if (!fanout?.subscribers.delete(subscriberKey) || fanout.subscribers.size > 0) return;
    this.dropFanout(signal, fanout);
  }

  /** Ends the owner-side subscription of a signal. */
  private dropFanout(signal: number, fanout: SignalFanout): void {
    if (this.signals.get(signal) === fanout) this.signals.delete(signal);
    fanout.subscribers.clear();
    if (this.host.isClosed) return;
    fanout.ready
      .then(() =>
        this.host.call(
          { service: this.ownerId, object: 1, action: Reserved.unregisterEvent },
          encode("(IIL)", [this.ownerId, signal, fanout.upstreamLink]),
        ),
      )
      .catch(() => {});
  }

  /** An Event of the owner, to every internal subscriber of that signal. */
  private onEvent(ev: Message): void {
    const fanout = this.signals.get(ev.action);
    if (!fanout || this.internalId === 0) return;
    const address = { service: this.internalId, object: 1, action: ev.action };
    const signature = this.eventSignature(ev);
    // Objects inside are read once, then exported to each subscriber's own connection.
    let value: unknown;
    let decoded = false;
    for (const sub of fanout.subscribers.values()) {
      if (sub.conn.isClosed) continue;
      if (signature === undefined || !mayContainObject(signature)) {
        sub.conn.sendEvent(address, ev.payload, ev.flags);
        continue;
      }
      try {
        if (!decoded) {
          value = decode(signature, ev.payload, heldToPassOn(this.ownerSide()));
          decoded = true;
        }
        sub.conn.sendEvent(address, encode(signature, value, this.internalSide(sub.conn)), ev.flags);
      } catch {
        // an emission that cannot be re-encoded is dropped for that subscriber only
      }
    }
  }

  private eventSignature(ev: Message): string | undefined {
    return ev.flags & MessageFlags.DynamicPayload ? "m" : eventSignatureOf(this.meta, ev.action);
  }

  /** An internal connection that closes leaves its subscriptions and calls behind. */
  private watch(conn: Connection): void {
    if (this.watched.has(conn)) return;
    this.watched.add(conn);
    const prefix = `${this.connNumbers.of(conn)}.`;
    conn.onClose(() => {
      for (const [signal, fanout] of this.signals)
        for (const key of [...fanout.subscribers.keys()])
          if (key.startsWith(prefix)) this.dropSubscriber(signal, key);
    });
  }
}

/** passOn, with the proxies read on the `from` side held only to be passed on. */
function passOnHeld(
  signature: string,
  payload: Uint8Array,
  from: CodecContext | undefined,
  to: CodecContext | undefined,
): Uint8Array {
  return passOn(signature, payload, heldToPassOn(from), to);
}

/**
 * The gateway holds the proxies it reads only to pass them on: each is released (its host is
 * told) with the last forwarder, so a terminate from the receiver reaches the object.
 */
function heldToPassOn(ctx: CodecContext | undefined): CodecContext | undefined {
  const importObject = ctx?.importObject;
  if (!ctx || !importObject) return ctx;
  return {
    ...ctx,
    importObject: (ref) => {
      const value = importObject(ref);
      if (value instanceof RemoteObject) releaseWithLastPassedOnProxy(value);
      return value;
    },
  };
}

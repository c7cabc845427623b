/**
 * Services that external clients register through the gateway (off by default): each one is
 * registered in the internal Service Directory by the gateway's own session, with a
 * RequestForwarder as its main object, so internal clients reach it on the gateway's internal
 * listener and every request goes, as raw bytes, over the connection the external client
 * already has (ClientServerSocket, spec §5.1). The gateway never needs to reach the client.
 *
 * Signals: one subscription at the external host per signal, fanned out to every internal
 * subscriber (like the router does the other way). Objects passed by reference are not
 * forwarded for these services: a method whose signature holds `o` is refused with an Error.
 */
import type { Logger } from "pino";
import type { Connection } from "../connection/connection.js";
import { canceledCallId, errorText } from "../connection/connection.js";
import { isQiError, QiError } from "../connection/errors.js";
import type { RequestForwarder } from "../object/forwarder.js";
import { Reserved, subscriptionArgs } from "../object/reserved.js";
import type { ServiceInfo } from "../session/service-info.js";
import { encode } from "../wire/codec.js";
import { type Message, MessageType } from "../wire/message-types.js";
import { ByteString } from "../wire/values.js";
import { decodeMetaObject } from "../wire/metaobject.js";
import type { MetaObject } from "../wire/metaobject-types.js";
import { parseSignature, type SigNode, signatureContains } from "../wire/signature.js";
import type { ClientLink } from "./client-link.js";
import { ConnectionNumbers } from "./connection-numbers.js";
import type { Permissions } from "./permissions.js";
import type { Upstream } from "./upstream.js";

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

/** One service hosted by an external client, as the internal network sees it. */
class ExternalService implements RequestForwarder {
  readonly uid: Uint8Array;
  serviceId = 0;
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
    if (carriesObjects(this.meta, msg.action)) {
      refuse(
        `${this.name}: objects passed by reference are not forwarded for services registered through the gateway.`,
      );
      return;
    }
    const address = { service: msg.service, object: 1, action: msg.action };
    if (!isCall) {
      this.host.post(address, msg.payload, msg.flags);
      return;
    }
    const { id, answer } = this.host.startCall(address, msg.payload, { flags: msg.flags });
    const key = `${this.connNumbers.of(from)}.${msg.id}`;
    this.calls.set(key, id);
    answer.then(
      (reply) => {
        this.calls.delete(key);
        if (!from.isClosed) from.reply(msg, reply.payload, reply.flags);
      },
      (e) => {
        this.calls.delete(key);
        if (from.isClosed) return;
        if (isQiError(e, "ERR_CANCELED")) from.replyCanceled(msg);
        else from.replyError(msg, errorText(e));
      },
    );
  }

  /** The external host went away or unregistered: internal subscribers get nothing more. */
  dispose(): void {
    this.signals.clear();
    this.host.setEventHandler(this.serviceId, 1, undefined);
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
          { service: this.serviceId, object: 1, action: Reserved.registerEvent },
          encode("(IIL)", [this.serviceId, signal, upstreamLink]),
        ),
      };
      created.ready.catch(() => {
        if (this.signals.get(signal) === created) this.signals.delete(signal);
      });
      this.signals.set(signal, created);
      this.host.setEventHandler(this.serviceId, 1, (ev) => this.onEvent(ev));
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
    this.signals.delete(signal);
    if (this.host.isClosed) return;
    fanout.ready
      .then(() =>
        this.host.call(
          { service: this.serviceId, object: 1, action: Reserved.unregisterEvent },
          encode("(IIL)", [this.serviceId, signal, fanout.upstreamLink]),
        ),
      )
      .catch(() => {});
  }

  /** An Event of the external host, to every internal subscriber of that signal. */
  private onEvent(ev: Message): void {
    const fanout = this.signals.get(ev.action);
    if (!fanout) return;
    for (const sub of fanout.subscribers.values()) {
      if (!sub.conn.isClosed)
        sub.conn.sendEvent({ service: this.serviceId, object: 1, action: ev.action }, ev.payload, ev.flags);
    }
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

function hasObject(node: SigNode): boolean {
  return signatureContains(node, (code) => code === "o");
}

function carriesObjects(meta: MetaObject, action: number): boolean {
  const method = meta.methods.get(action);
  if (!method) return false;
  try {
    return (
      hasObject(parseSignature(method.parametersSignature)) ||
      hasObject(parseSignature(method.returnSignature))
    );
  } catch {
    return false;
  }
}

export interface ExternalServicesOptions {
  upstream: Upstream;
  permissions: Permissions;
  logger: Logger;
}

/** The services external clients registered, by internal service id. */
export class ExternalServices {
  private readonly byId = new Map<number, ExternalService>();

  constructor(private readonly options: ExternalServicesOptions) {}

  /** Registers `info.name` for `owner` (pending); resolves with the id the directory gave it. */
  async register(owner: ClientLink, info: ServiceInfo): Promise<number> {
    const name = info.name;
    if (!this.options.permissions.allows(owner.identity, "register", name)) {
      throw new QiError("ERR_PERMISSION", `Permission denied: cannot register service "${name}".`);
    }
    if (this.options.upstream.serviceByName(name)) {
      throw new QiError("ERR_BAD_ARGUMENTS", `Service "${name}" is already registered.`);
    }
    const service = new ExternalService(name, owner, uidBytes(info.objectUid));
    const id = await this.options.upstream.registerForwarded(name, service);
    service.serviceId = id;
    this.byId.set(id, service);
    if (owner.conn.isClosed) this.releaseAll(owner);
    return id;
  }

  /**
   * serviceReady from the owner: its MetaObject is read (the owner serves the object under
   * its id only once it knows the id, so not earlier), then the service becomes visible inside.
   */
  async ready(owner: ClientLink, id: number): Promise<void> {
    const service = this.owned(owner, id);
    try {
      const reply = await owner.conn.call(
        { service: id, object: 1, action: Reserved.metaObject },
        encode("(I)", [id]),
      );
      service.meta = decodeMetaObject(reply.payload);
    } catch (e) {
      throw new QiError("ERR_REMOTE", `cannot read the MetaObject of "${service.name}": ${errorText(e)}`);
    }
    await this.options.upstream.serviceReady(id);
    this.options.logger.info(
      { client: owner.number, user: owner.identity, service: service.name, id },
      "external service registered",
    );
  }

  async unregister(owner: ClientLink, id: number): Promise<void> {
    const service = this.owned(owner, id);
    this.byId.delete(id);
    service.dispose();
    await this.options.upstream.unregisterForwarded(id);
    this.options.logger.info(
      { client: owner.number, service: service.name, id },
      "external service unregistered",
    );
  }

  /** The Service Directory is gone, and the registrations with it. */
  forgetAll(): void {
    for (const service of this.byId.values()) service.dispose();
    this.byId.clear();
  }

  /** The owner left: its services leave the internal directory. */
  releaseAll(owner: ClientLink): void {
    for (const [id, service] of this.byId) {
      if (service.owner !== owner) continue;
      this.byId.delete(id);
      service.dispose();
      this.options.upstream.unregisterForwarded(id).catch(() => {});
      this.options.logger.info(
        { client: owner.number, service: service.name, id },
        "external service gone with its client",
      );
    }
  }

  private owned(owner: ClientLink, id: number): ExternalService {
    const service = this.byId.get(id);
    if (!service || service.owner !== owner)
      throw new QiError("ERR_NO_SUCH_SERVICE", `Service #${id} was not registered by this client.`);
    return service;
  }
}

/** ServiceInfo.objectUid arrives as a (binary) string; the forwarder keeps its 20 bytes. */
function uidBytes(uid: ServiceInfo["objectUid"]): Uint8Array {
  const bytes = uid instanceof ByteString ? uid.bytes : new TextEncoder().encode(uid);
  const out = new Uint8Array(20);
  out.set(bytes.subarray(0, 20));
  return out;
}

/**
 * One qi signal, property or ALMemory key as a ROS topic. The qi subscription exists only
 * while the topic has a ROS subscriber (an idle bridge costs the robot nothing). Properties
 * and memory keys are latched: a new subscriber gets the current value at once. Each
 * subscriber has its own bounded queue (subscriber-queue.ts).
 */
import type { Publication, RosNode } from "@foxglove/ros1";
import type { Logger } from "pino";
import type { Session } from "../../session/index.js";
import type { BridgeMetrics } from "../plugin.js";
import {
  linkMemoryKey,
  type MessageMapping,
  mappingForSignature,
  mappingForType,
  messageDefinitions,
  STRING_TYPE,
  type TopicOut,
} from "../mapping/index.js";
import { type SubscriberClient, SubscriberQueue } from "./subscriber-queue.js";

export interface TopicOutOptions {
  node: RosNode;
  session: Session;
  entry: TopicOut;
  queueSize: number;
  metrics: BridgeMetrics;
  logger: Logger;
  /** Called whenever this topic's subscriber count changes (for the bridge's total). */
  onSubscribers: () => void;
}

type Closable = { on(event: "close", fn: () => void): unknown };

export class TopicOutBridge {
  readonly topic: string;
  private publication!: Publication;
  private mapping!: MessageMapping;
  private latched: Uint8Array | undefined;
  private readonly queues = new Map<number, SubscriberQueue>();
  /** Undoes the qi subscription; set while one exists (or is being made). */
  private unlink: Promise<() => Promise<void>> | undefined;
  private closed = false;
  /** Whether the master took the registration at start (else the master watch does it). */
  registered = false;

  constructor(private readonly o: TopicOutOptions) {
    this.topic = o.entry.topic;
  }

  get subscriberCount(): number {
    return this.queues.size;
  }

  /** Advertises the topic. The qi side is only looked at when a subscriber comes. */
  async start(): Promise<void> {
    const { entry, node } = this.o;
    this.mapping = await this.resolveMapping();
    const latching = entry.source.kind !== "signal";
    try {
      await node.advertise({
        topic: entry.topic,
        dataType: this.mapping.type,
        latching,
        messageDefinition: messageDefinitions(this.mapping.type),
      });
      this.registered = true;
    } catch (err) {
      // The publication exists even when the master is down; the master watch registers it later.
      this.o.logger.warn(
        { topic: entry.topic, err: (err as Error).message },
        "ros1: could not register the topic",
      );
    }
    const publication = node.publications.get(entry.topic);
    if (!publication) throw new Error(`ros1: could not advertise ${entry.topic}`);
    this.publication = publication;
    this.watchSubscribers(publication);
  }

  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) q.close();
    this.queues.clear();
    void this.dropQiLink();
  }

  /** The message type: the user's, or the one the member's signature has. */
  private async resolveMapping(): Promise<MessageMapping> {
    const { entry, session } = this.o;
    if (entry.source.kind === "memoryKey") {
      if (entry.type && entry.type !== STRING_TYPE)
        throw new Error(`${entry.topic}: ALMemory keys map to ${STRING_TYPE}`);
      return { type: STRING_TYPE, toMessage: ([text]) => ({ data: text }) };
    }
    const service = await session.service(entry.service);
    const signature = memberSignature(
      service.metaObject,
      entry.source.kind,
      entry.source.name,
      entry.service,
    );
    return entry.type ? mappingForType(entry.type, signature) : mappingForSignature(signature);
  }

  /**
   * @foxglove/ros1 tells nobody when a subscriber comes or goes; its Publication does learn it
   * in addSubscriber (and through the client's close), so this wraps that one method.
   */
  private watchSubscribers(publication: Publication): void {
    const add = publication.addSubscriber.bind(publication);
    publication.addSubscriber = (connectionId, callerId, client) => {
      add(connectionId, callerId, client);
      if (this.closed) return;
      const queue = new SubscriberQueue(
        client as unknown as SubscriberClient,
        this.o.queueSize,
        () => this.o.metrics.dropped(),
        () => this.o.metrics.messagesOut(),
      );
      this.queues.set(connectionId, queue);
      (client as unknown as Closable).on("close", () => {
        queue.close();
        this.queues.delete(connectionId);
        this.subscribersChanged();
      });
      this.subscribersChanged();
    };
    // The latched message is ours (the library only keeps it when it writes, which we do not).
    publication.latchedMessage = () => this.latched;
  }

  private subscribersChanged(): void {
    this.o.onSubscribers();
    if (this.closed) return;
    if (this.queues.size > 0 && !this.unlink) this.unlink = this.linkQi();
    else if (this.queues.size === 0 && this.unlink) void this.dropQiLink();
  }

  private async dropQiLink(): Promise<void> {
    const unlink = this.unlink;
    this.unlink = undefined;
    this.latched = undefined;
    if (!unlink) return;
    try {
      await (await unlink)();
    } catch {
      // The service or the session went away: nothing left to undo.
    }
  }

  /** Subscribes on the qi side; for a latched source also publishes the current value. */
  private async linkQi(): Promise<() => Promise<void>> {
    const { entry, session, logger } = this.o;
    const onValue = (...args: unknown[]) => this.publish(args);
    try {
      const service = await session.service(entry.service);
      const { kind, name } = entry.source;
      if (kind === "signal") {
        const signal = service.signal(name);
        const link = await signal.connect(onValue);
        return () => signal.disconnect(link);
      }
      if (kind === "property") {
        const property = service.property(name);
        const link = await property.connect((v) => onValue(v));
        this.publish([await property.get()]);
        return () => property.disconnect(link);
      }
      return await linkMemoryKey(service, name, (text) => onValue(text));
    } catch (err) {
      logger.warn(
        { topic: entry.topic, err: (err as Error).message },
        "ros1: cannot subscribe on the qi side",
      );
      this.unlink = undefined;
      return async () => {};
    }
  }

  /** One qi value to every subscriber: serialized once, queued per subscriber. */
  publish(args: readonly unknown[]): void {
    if (this.closed || this.queues.size === 0) return;
    let frame: Uint8Array;
    try {
      const message = this.mapping.toMessage(args);
      const writer = this.publication.messageWriter;
      const size = writer.calculateByteSize(message);
      frame = new Uint8Array(4 + size);
      new DataView(frame.buffer).setUint32(0, size, true);
      writer.writeMessage(message, frame.subarray(4));
    } catch (err) {
      this.o.logger.warn(
        { topic: this.topic, err: (err as Error).message },
        "ros1: cannot convert a qi value",
      );
      this.o.metrics.dropped();
      return;
    }
    if (this.publication.latching) this.latched = frame;
    for (const q of this.queues.values()) q.send(frame);
  }
}

function memberSignature(
  meta: {
    signals: Map<number, { name: string; signature: string }>;
    properties: Map<number, { name: string; signature: string }>;
  },
  kind: "signal" | "property",
  name: string,
  service: string,
): string {
  const members = kind === "signal" ? meta.signals : meta.properties;
  for (const m of members.values()) if (m.name === name) return m.signature;
  throw new Error(`${service} has no ${kind} "${name}"`);
}

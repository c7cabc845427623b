/**
 * One web client's topic subscriptions: a qi signal or property connected once per topic,
 * however many `subscribe` ids name it, each topic with its own bounded, throttled queue.
 * A property or an ALMemory key sends its current value first (a latched topic, as tools
 * expect of state).
 */
import type { RemoteObject } from "../../object/index.js";
import { type Compression, encodeFor, isBinary } from "./encode.js";
import { ProtocolError } from "./frames.js";
import type { Outbox, SubscriptionQueue } from "./outbox.js";
import type { QiTopic } from "./qi-graph.js";
import { followTopic } from "./topic-link.js";
import { messageFromQi, rosTime, serializeMessage } from "../mapping/index.js";

export interface SubscribeOptions {
  id: string;
  throttleMs: number;
  queueLength: number;
  fragmentSize: number;
  compression: Compression;
}

interface Subscription {
  topic: QiTopic;
  ids: Set<string>;
  queue: SubscriptionQueue;
  compression: Compression;
  fragmentSize: number;
  unlink: () => Promise<void>;
}

export interface SubscriptionLimits {
  /** Topics one client may subscribe to at once. */
  maxSubscriptions: number;
  /** A subscription's queue when the client gives no queue_length (and its upper bound). */
  defaultQueueLength: number;
  maxQueueLength: number;
}

export class Subscriptions {
  private readonly byTopic = new Map<string, Subscription>();
  private readonly starting = new Map<string, Promise<void>>();

  constructor(
    private readonly outbox: Outbox,
    private readonly limits: SubscriptionLimits,
    private readonly counted: { out(): void; subscribers(delta: number): void },
  ) {}

  get size(): number {
    return this.byTopic.size;
  }

  async subscribe(topic: QiTopic, object: RemoteObject, o: SubscribeOptions): Promise<void> {
    await this.starting.get(topic.name);
    const existing = this.byTopic.get(topic.name);
    const capacity = Math.max(
      1,
      Math.min(o.queueLength || this.limits.defaultQueueLength, this.limits.maxQueueLength),
    );
    if (existing) {
      // rosbridge: the latest subscribe's options apply to the topic.
      existing.ids.add(o.id);
      existing.queue.throttleMs = o.throttleMs;
      existing.queue.capacity = capacity;
      if (o.compression === "cbor-raw") checkSerializable(topic);
      existing.compression = o.compression;
      existing.fragmentSize = o.fragmentSize;
      return;
    }
    if (topic.kind === "method")
      throw new ProtocolError(`${topic.name} is a qi method: publish to it, or call it`);
    if (this.byTopic.size >= this.limits.maxSubscriptions)
      throw new ProtocolError(`more than ${this.limits.maxSubscriptions} subscriptions`);
    const sub: Subscription = {
      topic,
      ids: new Set([o.id]),
      queue: this.outbox.queue(o.throttleMs, capacity),
      compression: o.compression,
      fragmentSize: o.fragmentSize,
      unlink: async () => {},
    };
    if (o.compression === "cbor-raw") checkSerializable(topic);
    const deliver = (args: readonly unknown[]) => {
      this.counted.out();
      // Built only when it leaves: a message dropped from the queue costs nothing.
      sub.queue.push(() =>
        encodeFor(
          { op: "publish", topic: topic.name, msg: messageFor(topic, args, sub.compression) },
          sub.compression,
          sub.fragmentSize,
        ),
      );
    };
    this.byTopic.set(topic.name, sub);
    const start = (async () => {
      sub.unlink = await followTopic(object, topic, deliver);
    })();
    this.starting.set(topic.name, start);
    try {
      await start;
      this.counted.subscribers(1);
    } catch (e) {
      this.byTopic.delete(topic.name);
      sub.queue.close();
      throw e;
    } finally {
      this.starting.delete(topic.name);
    }
  }

  /** Drops one subscribe id (all of the topic's when `id` is undefined); the last one disconnects. */
  async unsubscribe(topicName: string, id: string | undefined): Promise<void> {
    await this.starting.get(topicName);
    const sub = this.byTopic.get(topicName);
    if (!sub) return;
    if (id !== undefined) sub.ids.delete(id);
    if (id !== undefined && sub.ids.size > 0) return;
    this.byTopic.delete(topicName);
    sub.queue.close();
    this.counted.subscribers(-1);
    await sub.unlink().catch(() => {});
  }

  async close(): Promise<void> {
    await Promise.all([...this.byTopic.keys()].map((t) => this.unsubscribe(t, undefined)));
  }
}

/** rosbridge's message for one event: the ROS message, or for cbor-raw its ROS 1 bytes with the time sent. */
function messageFor(topic: QiTopic, args: readonly unknown[], compression: Compression): unknown {
  if (compression !== "cbor-raw") return messageFromQi(topic.signature, args, isBinary(compression));
  return { ...rosTime(Date.now(), "secs"), bytes: serializeMessage(topic.type, topic.signature, args) };
}

/** cbor-raw needs the topic's type in the standard set, and a conversion to it: checked at subscribe. */
function checkSerializable(topic: QiTopic): void {
  try {
    serializeMessage(topic.type, topic.signature, []);
  } catch (e) {
    const why = (e as Error).message;
    // An empty event may not fit the message; only a missing type or conversion is refused here.
    if (/unknown message type|no conversion|not in the standard set/.test(why))
      throw new ProtocolError(`cbor-raw for ${topic.name}: ${why}`);
  }
}

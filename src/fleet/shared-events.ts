/**
 * Fan-out where it belongs: an event the robot's gateway sends to many remote clients leaves
 * the robot once. The gateway hands every subscriber the same payload buffer; the robot side
 * publishes it once on the event's NATS subject (numbered), and each subscribed channel carries
 * only a small reference (sequence + its own 28-byte header). NATS copies the payload to every
 * edge or client that subscribed to the subject, once per NATS connection.
 *
 * A channel starts with inline events; the robot offers the subject, the client subscribes
 * (and flushes, so NATS knows before the next publication), then joins; only then do references
 * replace inline events. No remote subscriber: nothing is published.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { readSharedEvent, sharedEvent } from "./frames.js";

/** Robot side: one per robot, shared by all its remote channels. */
export class SharedEventPublisher {
  private seq = 0;
  private readonly published = new WeakMap<Uint8Array, { subject: string; seq: number }>();
  /** Payload bytes published on event subjects (the uplink these events cost). */
  publishedBytes = 0;

  constructor(private readonly nc: NatsConnection) {}

  /** Publishes `payload` on `subject` unless this very buffer already was: its sequence number. */
  publish(subject: string, payload: Uint8Array): number {
    const known = this.published.get(payload);
    if (known && known.subject === subject) return known.seq;
    const seq = ++this.seq;
    this.nc.publish(subject, sharedEvent(seq, payload));
    this.publishedBytes += payload.byteLength + 8;
    this.published.set(payload, { subject, seq });
    return seq;
  }
}

/** How many payloads of one subject a client keeps for references still on their way. */
export const DEFAULT_SHARED_KEEP = 8;

interface Topic {
  sub: Subscription;
  users: number;
  payloads: Map<number, Uint8Array>;
  waiters: Array<() => void>;
}

/** Client side: one per NATS connection, so a subject is subscribed once however many channels use it. */
export class SharedEventSubscriber {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly keep = DEFAULT_SHARED_KEEP,
  ) {}

  /**
   * Subscribes (once per subject). No flush is needed before telling the robot: NATS handles
   * one connection's SUB before its next PUB, and forwards the interest on a route or leaf
   * link ahead of the messages that follow it, so the robot's server knows of this
   * subscriber before the Join arrives.
   */
  join(subject: string): void {
    let topic = this.topics.get(subject);
    if (!topic) {
      const t: Topic = {
        sub: undefined as unknown as Subscription,
        users: 0,
        payloads: new Map(),
        waiters: [],
      };
      t.sub = this.nc.subscribe(subject, { callback: (_e, m) => this.arrived(t, m.data) });
      this.topics.set(subject, t);
      topic = t;
    }
    topic.users++;
  }

  leave(subject: string): void {
    const topic = this.topics.get(subject);
    if (!topic) return;
    if (--topic.users > 0) return;
    topic.sub.unsubscribe();
    this.topics.delete(subject);
    for (const w of topic.waiters) w();
  }

  /** The payload of `seq` on `subject`, if it arrived and is still kept. */
  take(subject: string, seq: number): Uint8Array | undefined {
    return this.topics.get(subject)?.payloads.get(seq);
  }

  /** Calls `cb` once when the next payload of `subject` arrives (or the subject is left). */
  whenNext(subject: string, cb: () => void): void {
    const topic = this.topics.get(subject);
    if (!topic) cb();
    else topic.waiters.push(cb);
  }

  private arrived(topic: Topic, data: Uint8Array): void {
    const ev = readSharedEvent(data);
    if (!ev) return;
    topic.payloads.set(ev.seq, ev.payload);
    if (topic.payloads.size > this.keep) {
      const oldest = topic.payloads.keys().next().value as number;
      topic.payloads.delete(oldest);
    }
    const waiters = topic.waiters;
    topic.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * A ROS topic that calls (or posts to) a qi method: each message's fields, picked by the
 * mapping's paths (`linear.x`), become the method's arguments. Calls in flight per topic are
 * bounded: past the limit a message is dropped (a publisher faster than the robot answers
 * must not grow a queue).
 */
import type { RosNode } from "@foxglove/ros1";
import { md5 } from "@foxglove/rosmsg";
import type { Logger } from "pino";
import type { Session } from "../../session/index.js";
import type { BridgeMetrics } from "../plugin.js";
import { fieldAt, messageDefinitions, type TopicIn } from "../mapping/index.js";

export interface TopicInOptions {
  node: RosNode;
  session: Session;
  entry: TopicIn;
  maxInFlight: number;
  metrics: BridgeMetrics;
  logger: Logger;
}

export class TopicInBridge {
  readonly topic: string;
  private inFlight = 0;
  private md5sum = "*";

  constructor(private readonly o: TopicInOptions) {
    this.topic = o.entry.topic;
  }

  start(): void {
    // A standard type is checked against the publisher's md5sum; any other is taken as sent.
    try {
      this.md5sum = md5(messageDefinitions(this.o.entry.type));
    } catch {
      this.md5sum = "*";
    }
    this.subscribe();
  }

  /**
   * Registers this subscription with a (restarted) master, keeping the node's subscription as
   * it is. Not unsubscribe + subscribe: the library unregisters in the background, and that
   * call could reach the master after the new registration and undo it.
   */
  async resubscribe(): Promise<void> {
    const { node, entry } = this.o;
    const [code, message, publishers] = await node.rosMasterClient.registerSubscriber(
      node.name,
      this.topic,
      entry.type,
      node.rosFollower.url()!,
    );
    if (code !== 1) throw new Error(`registerSubscriber ${this.topic}: ${String(message)}`);
    // The publishers the new master knows already: connect to them as to announced ones.
    if (Array.isArray(publishers)) {
      const urls = publishers.filter((p): p is string => typeof p === "string");
      node.rosFollower.emit("publisherUpdate", this.topic, urls, "/master");
    }
  }

  close(): void {
    this.o.node.unsubscribe(this.topic);
  }

  private subscribe(): void {
    const { node, entry } = this.o;
    const subscription = node.subscribe({ topic: entry.topic, dataType: entry.type, md5sum: this.md5sum });
    subscription.on("message", (message) => this.onMessage(message));
    subscription.on("error", (err) =>
      this.o.logger.debug(
        { topic: entry.topic, err: err.message },
        "ros1: subscription error (a publisher went away?)",
      ),
    );
  }

  private onMessage(message: unknown): void {
    const { entry, session, metrics, logger } = this.o;
    metrics.messagesIn();
    let args: unknown[];
    try {
      args = entry.args.map((path) => fieldAt(message, path));
    } catch (err) {
      logger.warn(
        { topic: entry.topic, err: (err as Error).message },
        "ros1: message does not fit the mapping",
      );
      metrics.dropped();
      return;
    }
    if (this.inFlight >= this.o.maxInFlight) {
      metrics.dropped();
      return;
    }
    this.inFlight++;
    void (async () => {
      try {
        const service = await session.service(entry.service);
        if (entry.post) service.post(entry.method, ...args);
        else await service.call(entry.method, ...args);
      } catch (err) {
        logger.warn({ topic: entry.topic, err: (err as Error).message }, "ros1: qi call from a topic failed");
      } finally {
        this.inFlight--;
      }
    })();
  }
}

/**
 * Flow control toward one client: what the gateway queues for a client is bounded.
 * - Answers go out whatever the queue (they were asked for), but a client whose queue is over
 *   the soft limit (maxQueuedBytes) is not read until its channel drains: it cannot ask for
 *   more while it does not take what it asked for. It is resumed by the channel's drain
 *   (Channel.onDrain), not by polling; the gateway's listeners use a high-water mark no
 *   higher than maxQueuedBytes, so a queue over the soft limit always ends in a drain.
 * - Events to a client over the soft limit are dropped and counted; what it is owed counts
 *   toward the hard limit (hardQueuedBytes), past which the client is disconnected.
 */
import type { Logger } from "pino";
import { QiError } from "../../connection/index.js";
import type { Message } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { GatewayMetrics } from "../metrics.js";
import type { RouterLimits } from "./limits.js";

const HEADER = 28;

export class ClientFlow {
  constructor(
    private readonly limits: RouterLimits,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  /** Sends an answer to `call`; pauses reading the client over the soft limit, drops it over the hard one. */
  sendAnswer(link: ClientLink, call: Message, payload: Uint8Array, flags: number): void {
    const after = this.queueAfter(link, payload.byteLength);
    if (after < 0) return;
    link.conn.reply(call, payload, flags);
    this.queued(link, payload.byteLength, after);
  }

  /** The same for an answer whose header already names the client's call (a relayed answer). */
  relayAnswer(link: ClientLink, answer: Message): void {
    const bytes = answer.payload.byteLength;
    const after = this.queueAfter(link, bytes);
    if (after < 0) return;
    link.conn.relayAnswer(answer);
    this.queued(link, bytes, after);
  }

  /**
   * May an event of `bytes` go to this client (for `copies` of its subscriptions)? When not,
   * it is counted as dropped, and a client owed more than the hard limit is disconnected.
   */
  admitEvent(link: ClientLink, bytes: number, copies: number): boolean {
    const queued = link.conn.channel.bufferedBytes;
    if (queued <= this.limits.maxQueuedBytes) {
      link.owedBytes = 0;
      return true;
    }
    // What a stalled client is owed counts toward the hard limit: dropping events keeps
    // its queue small, but a client that never reads must not be kept forever.
    link.droppedEvents += copies;
    link.owedBytes += (bytes + HEADER) * copies;
    this.metrics.droppedEvents(copies);
    if (queued + link.owedBytes > this.limits.hardQueuedBytes) this.dropStalled(link, queued);
    return false;
  }

  /**
   * An event held back for this client (subscriber-pacer.ts) was replaced by a newer one: it
   * counts as dropped, and toward the hard limit like any event a stalled client is owed.
   */
  replacedHeldEvent(link: ClientLink, bytes: number, copies: number): void {
    link.droppedEvents += copies;
    link.owedBytes += (bytes + HEADER) * copies;
    this.metrics.droppedEvents(copies);
    const queued = link.conn.channel.bufferedBytes;
    if (queued + link.owedBytes > this.limits.hardQueuedBytes) this.dropStalled(link, queued);
  }

  /** The client left: stop waiting for its drain. */
  forget(link: ClientLink): void {
    link.stopWaitingForDrain?.();
    link.stopWaitingForDrain = undefined;
  }

  /**
   * What the client's queue holds with `bytes` more; -1 when that is over the hard limit (the
   * client is disconnected).
   */
  private queueAfter(link: ClientLink, bytes: number): number {
    const queued = link.conn.channel.bufferedBytes;
    const after = queued + bytes;
    if (after <= this.limits.hardQueuedBytes) return after;
    this.dropStalled(link, queued);
    return -1;
  }

  /** An answer of `bytes` was queued (`after`: the queue with it): counted; over the soft limit, the client is not read. */
  private queued(link: ClientLink, bytes: number, after: number): void {
    this.metrics.bytesOut(bytes + HEADER);
    if (after > this.limits.maxQueuedBytes) this.pauseReading(link);
  }

  private pauseReading(link: ClientLink): void {
    const conn = link.conn;
    if (link.stopWaitingForDrain !== undefined || conn.isClosed) return;
    conn.channel.pause();
    link.stopWaitingForDrain = conn.channel.onDrain(() => {
      this.forget(link);
      if (!conn.isClosed) conn.channel.resume();
    });
  }

  private dropStalled(link: ClientLink, queued: number): void {
    this.logger.warn(
      { client: link.number, queued, owed: link.owedBytes },
      "client stalled past the hard limit, disconnecting",
    );
    link.conn.destroy(new QiError("ERR_LIMIT", "client too slow: outgoing queue over the hard limit"));
  }
}

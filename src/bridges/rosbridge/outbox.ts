/**
 * What one web client is sent, bounded. Replies go out at once; subscription messages wait in
 * one queue per subscription (at most `queue_length`, the oldest dropped first) and leave only
 * while the socket has less than `maxInFlightBytes` not yet written to the kernel and the
 * subscription's `throttle_rate` allows. A slow reader therefore loses old messages and never
 * grows the bridge's memory; a message that is dropped was never encoded.
 */

/**
 * One WebSocket message: a text, or a binary message given as its pieces (sent as the
 * fragments of one message, so a large piece is never copied into a joined buffer).
 */
export type Frame = string | readonly Uint8Array[];

/** One encoded rosbridge message: one frame, or the `fragment` messages of a long JSON text. */
export type Frames = Frame[];

export interface OutboxOptions {
  /** Writes one frame; calls `written` once the socket took it (ws's send callback). */
  write(frame: Frame, written: () => void): void;
  maxInFlightBytes: number;
  /** Called with how many queued messages were dropped. */
  dropped(n: number): void;
}

export class SubscriptionQueue {
  private readonly items: Array<() => Frames> = [];
  private lastSentAt = -Infinity;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly outbox: Outbox,
    public throttleMs: number,
    public capacity: number,
  ) {}

  /** Queues a message (encoded only when it leaves); drops the oldest beyond capacity. */
  push(encode: () => Frames): void {
    this.items.push(encode);
    let over = this.items.length - this.capacity;
    if (over > 0) {
      this.items.splice(0, over);
      this.outbox.options.dropped(over);
      over = 0;
    }
    this.outbox.pump();
  }

  get length(): number {
    return this.items.length;
  }

  /** The next message if the throttle allows now; else arms a timer to pump later. */
  take(now: number): (() => Frames) | undefined {
    if (this.items.length === 0) return undefined;
    const wait = this.lastSentAt + this.throttleMs - now;
    if (wait > 0) {
      if (!this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.outbox.pump();
        }, wait);
      return undefined;
    }
    this.lastSentAt = now;
    return this.items.shift();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.items.length = 0;
    this.outbox.remove(this);
  }
}

export class Outbox {
  private inFlight = 0;
  private readonly queues = new Set<SubscriptionQueue>();
  private closed = false;

  constructor(readonly options: OutboxOptions) {}

  /** Replies and statuses: they answer the client's own requests, which are capped elsewhere. */
  sendNow(frames: Frames): void {
    for (const f of frames) this.write(f);
  }

  queue(throttleMs: number, capacity: number): SubscriptionQueue {
    const q = new SubscriptionQueue(this, throttleMs, capacity);
    this.queues.add(q);
    return q;
  }

  remove(q: SubscriptionQueue): void {
    this.queues.delete(q);
  }

  /** Sends queued messages, one per subscription in turn, while the socket keeps up. */
  pump(): void {
    let progressed = true;
    while (progressed && !this.closed && this.inFlight < this.options.maxInFlightBytes) {
      progressed = false;
      const now = performance.now();
      for (const q of this.queues) {
        if (this.inFlight >= this.options.maxInFlightBytes) break;
        const next = q.take(now);
        if (!next) continue;
        progressed = true;
        for (const f of next()) this.write(f);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const q of [...this.queues]) q.close();
  }

  private write(frame: Frame): void {
    if (this.closed) return;
    // Characters, not UTF-8 bytes, for text: close enough for a bound, and free to compute.
    let size = 0;
    if (typeof frame === "string") size = frame.length;
    else for (const piece of frame) size += piece.byteLength;
    this.inFlight += size;
    this.options.write(frame, () => {
      this.inFlight -= size;
      this.pump();
    });
  }
}

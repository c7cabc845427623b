/**
 * What goes out to one client for one of its subscriptions, and when (issue 11):
 * - a rate the subscriber asked for (member 87, object/subscription-rate.ts): at most one
 *   event per interval; the newest of an interval goes at its end (a throttle that never
 *   loses the last value: a property watch ends on the value the property has);
 * - calls ahead of streams: while more than `backlogBytes` are queued toward the client (0 for
 *   a latestOnly subscriber), events wait in the gateway instead of in the socket's queue, so
 *   an answer to a call is never behind more than that. A paced subscription (a rate, or
 *   latest-only) holds one event, a newer one replacing it (counted as dropped): a slow
 *   subscriber that asked for it gets the newest, never a backlog. Every other event waits in
 *   the client's one queue (HeldEvents), in order and none lost, up to `maxHeldBytes`, past
 *   which events are dropped and counted as they were before this queue existed.
 *
 * Why priority and not a second channel: every client has one connection (libqi's, a
 * browser's WebSocket), the answer and the stream share it; holding events back is invisible
 * to the client and needs nothing from it, where a second channel would need a client that
 * opens and authenticates it. What a kernel socket buffer holds cannot be overtaken, so the
 * backlog limit keeps what the gateway itself writes ahead of answers small.
 */

/** How often a held event is tried again while the client's queue stays over the limit (ms). */
const RETRY_MS = 5;

export interface PacerHooks {
  /** Bytes queued toward the client now. */
  queued(): number;
  /** Sends an event now. */
  send(payload: Uint8Array, flags: number): void;
  /** An event held here (of `bytes`) was replaced by a newer one. */
  dropped(bytes: number): void;
  /** Whether the client is still there. */
  alive(): boolean;
}

/**
 * The events of one client's unpaced subscriptions, held while its socket queue is over the
 * backlog limit: sent in arrival order once it is not (a signal's "started" never after its
 * "done"), bounded by `maxHeldBytes` past which a new event is dropped.
 */
export class HeldEvents {
  private readonly items: Array<{ hooks: PacerHooks; payload: Uint8Array; flags: number }> = [];
  private head = 0;
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly backlogBytes: number,
    private readonly maxHeldBytes: number,
  ) {}

  offer(hooks: PacerHooks, payload: Uint8Array, flags: number): void {
    if (this.head === this.items.length && hooks.queued() <= this.backlogBytes) {
      hooks.send(payload, flags);
      return;
    }
    if (this.bytes + payload.byteLength > this.maxHeldBytes) {
      hooks.dropped(payload.byteLength);
      return;
    }
    // Kept past this tick: a copy, as the framer may reuse what the payload views.
    this.items.push({ hooks, payload: payload.slice(), flags });
    this.bytes += payload.byteLength;
    this.schedule();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.items.length = 0;
    this.head = 0;
    this.bytes = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), RETRY_MS);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private flush(): void {
    this.timer = undefined;
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (!item.hooks.alive()) {
        this.take();
        continue;
      }
      if (item.hooks.queued() > this.backlogBytes) {
        this.schedule();
        return;
      }
      this.take();
      item.hooks.send(item.payload, item.flags);
    }
    this.items.length = 0;
    this.head = 0;
  }

  private take(): void {
    this.bytes -= this.items[this.head].payload.byteLength;
    this.items[this.head++] = undefined as never;
  }
}

export class SubscriberPacer {
  private intervalMs = 0;
  private latestOnly = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private held: { payload: Uint8Array; flags: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly backlogBytes: number,
    private readonly hooks: PacerHooks,
    /** The client's queue for events of its unpaced subscriptions. */
    private readonly clientQueue: HeldEvents,
  ) {}

  /** The subscriber's own pacing: `maxRate` events/s (0: none), newest only. */
  configure(maxRate: number, latestOnly: boolean): void {
    this.intervalMs = maxRate > 0 ? 1000 / maxRate : 0;
    this.latestOnly = latestOnly;
    if (this.held !== undefined) this.schedule();
  }

  get isPaced(): boolean {
    return this.intervalMs > 0 || this.latestOnly;
  }

  /** An upstream event for this subscriber: sent now, or held (the newest one) for later. */
  offer(payload: Uint8Array, flags: number): void {
    if (!this.isPaced && this.held === undefined) {
      this.clientQueue.offer(this.hooks, payload, flags);
      return;
    }
    if (this.held === undefined && this.mayGo()) {
      this.go(payload, flags);
      return;
    }
    if (this.held !== undefined) this.hooks.dropped(this.held.payload.byteLength);
    // Kept past this tick: a copy, as the framer may reuse what the payload views.
    this.held = { payload: payload.slice(), flags };
    this.schedule();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = undefined;
  }

  private mayGo(): boolean {
    if (this.hooks.queued() > (this.latestOnly ? 0 : this.backlogBytes)) return false;
    return this.intervalMs === 0 || performance.now() - this.lastSentAt >= this.intervalMs;
  }

  private go(payload: Uint8Array, flags: number): void {
    if (this.intervalMs > 0) this.lastSentAt = performance.now();
    this.hooks.send(payload, flags);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const untilInterval = this.intervalMs > 0 ? this.lastSentAt + this.intervalMs - performance.now() : 0;
    this.timer = setTimeout(() => this.flush(), Math.max(RETRY_MS, untilInterval));
    // A held event must not keep a gateway process alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private flush(): void {
    this.timer = undefined;
    const held = this.held;
    if (held === undefined) return;
    if (!this.hooks.alive()) {
      this.dispose();
      return;
    }
    if (!this.mayGo()) {
      this.schedule();
      return;
    }
    this.held = undefined;
    this.go(held.payload, held.flags);
  }
}

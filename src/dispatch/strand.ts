/**
 * A serialization domain, like libqi's `qi::Strand` and the implicit strand of a SingleThread
 * object (spec §9): tasks given the same Strand run one after another in FIFO order and never
 * overlap, in both dispatch modes. A task holds its strand until the promise it returned settles
 * (not merely until its synchronous part returns, as in libqi), so an `async` method can rely on
 * the object's state across its awaits.
 *
 * Consequences worth knowing:
 * - A task that calls into its own strand through the same dispatcher (`run(..., { strand })`
 *   from inside a task of that strand) runs that call directly, inline, instead of queueing it
 *   behind itself (libqi does the same when a call is made from inside the strand).
 * - A task that waits for something which needs its own strand *from outside* (a remote peer
 *   calling back into this object while the task awaits that peer) deadlocks until a timeout
 *   fires, exactly as in libqi. Give such objects no strand, or a timeout.
 * - A task that is canceled or timed out releases its strand at once, so a stuck task cannot
 *   block its object forever; if it ignores its AbortSignal, what it still does overlaps with
 *   the next task.
 *
 * A Strand is plain state; the Dispatcher drives it. Use one strand with one dispatcher.
 */
export class Strand {
  readonly name: string;
  /** @internal The task currently holding the strand, or null. Managed by the Dispatcher. */
  _holder: object | null = null;
  /** @internal Tasks waiting for the strand, in arrival order (async mode only). */
  readonly _waiting: Array<{ start(): void }> = [];

  constructor(name = "strand") {
    this.name = name;
  }

  /** True while a task of this strand is running. */
  get busy(): boolean {
    return this._holder !== null;
  }

  /** Tasks waiting for this strand (async mode; in sync mode they wait in the global queue). */
  get queued(): number {
    return this._waiting.length;
  }
}

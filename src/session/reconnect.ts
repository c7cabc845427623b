/**
 * When to try again after losing a peer: exponential backoff, capped, with jitter so that many
 * hosts that lost the same Service Directory do not all knock at the same instant when it comes
 * back. Policy only (no sockets, no timers of its own), so any reconnecting client can use it.
 */

export interface BackoffPolicy {
  /** Delay before the first attempt, ms (default 200). */
  initialMs?: number;
  /** Longest delay between attempts, ms (default 5,000). */
  maxMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /** Fraction of each delay drawn at random, 0…1 (default 0.5: a delay is 50–100 % of the nominal one). */
  jitter?: number;
  /** Attempts before giving up (default: unbounded; the delay is bounded by maxMs). */
  maxAttempts?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffPolicy> = {
  initialMs: 200,
  maxMs: 5_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

export class Backoff {
  private readonly policy: Required<BackoffPolicy>;
  private nominal: number;
  /** Attempts handed out since the last reset. */
  attempt = 0;

  constructor(
    policy: BackoffPolicy = {},
    private readonly random: () => number = Math.random,
  ) {
    this.policy = { ...DEFAULT_BACKOFF, ...policy };
    const { initialMs, maxMs, factor, jitter } = this.policy;
    if (!(initialMs >= 0 && maxMs >= initialMs && factor >= 1 && jitter >= 0 && jitter <= 1))
      throw new RangeError(`bad backoff policy ${JSON.stringify(policy)}`);
    this.nominal = initialMs;
  }

  /** The delay before the next attempt, or undefined once maxAttempts were made. */
  next(): number | undefined {
    if (this.attempt >= this.policy.maxAttempts) return undefined;
    this.attempt++;
    const delay = this.nominal * (1 - this.policy.jitter * this.random());
    this.nominal = Math.min(this.policy.maxMs, this.nominal * this.policy.factor);
    return Math.round(delay);
  }

  /** After a success: the next loss starts again from initialMs. */
  reset(): void {
    this.attempt = 0;
    this.nominal = this.policy.initialMs;
  }
}

/**
 * A wait that close() can cut short: resolves true after `ms`, or false at once when cancelled.
 */
export class CancellableDelay {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: ((ran: boolean) => void) | undefined;

  wait(ms: number): Promise<boolean> {
    this.cancel();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.wake = undefined;
        resolve(true);
      }, ms);
    });
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.wake?.(false);
    this.wake = undefined;
  }
}

/**
 * One log line per interval for the connections the caps closed, with counts per cap and the
 * busiest addresses: a flood of thousands of connections a second must not become thousands of
 * log lines (the log is then the attack), but an operator must see that it happens and from where.
 */
import type { Logger } from "pino";
import type { AdmissionCap } from "../transport/index.js";

/** Addresses listed per line, the busiest first; the others are only counted. */
const ADDRESSES_SHOWN = 5;
/** Addresses tracked per interval (a flood from many addresses must not grow this map). */
const ADDRESSES_TRACKED = 1_000;

export class ConnectionRefusalLog {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private refused = new Map<AdmissionCap, number>();
  private evicted = new Map<AdmissionCap, number>();
  private byAddress = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(logger: Logger, intervalMs = 10_000) {
    this.logger = logger;
    this.intervalMs = intervalMs;
  }

  /** A cap closed a connection: the new one, or (evicted) an older unauthenticated one. */
  note(cap: AdmissionCap, address: string, evicted: boolean): void {
    const counts = evicted ? this.evicted : this.refused;
    counts.set(cap, (counts.get(cap) ?? 0) + 1);
    const seen = this.byAddress.get(address);
    if (seen !== undefined || this.byAddress.size < ADDRESSES_TRACKED)
      this.byAddress.set(address, (seen ?? 0) + 1);
    if (this.timer === undefined) {
      // The first refusal of a quiet period is logged at once; the rest at the interval's end.
      this.flush();
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Logs what was counted since the last line (nothing when nothing was). */
  flush(): void {
    if (this.refused.size === 0 && this.evicted.size === 0) return;
    const total = (m: Map<AdmissionCap, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const addresses = [...this.byAddress.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, ADDRESSES_SHOWN)
      .map(([address, count]) => ({ address, count }));
    this.logger.warn(
      {
        refused: Object.fromEntries(this.refused),
        evictedUnauthenticated: Object.fromEntries(this.evicted),
        addresses,
        distinctAddresses: this.byAddress.size,
      },
      `connection caps: ${total(this.refused)} new connections refused, ${total(this.evicted)} unauthenticated connections closed to make room`,
    );
    this.refused = new Map();
    this.evicted = new Map();
    this.byAddress = new Map();
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private tick(): void {
    const busy = this.refused.size > 0 || this.evicted.size > 0;
    this.flush();
    // Keep ticking while refusals go on; a quiet interval ends it (the next one logs at once).
    this.timer = busy ? setTimeout(() => this.tick(), this.intervalMs) : undefined;
    this.timer?.unref();
  }
}

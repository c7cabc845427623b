/**
 * What the gateway logs about outsiders, made safe to log: strings a client chose (user,
 * service, method and signal names, signatures, refusal reasons that quote them) are cut to a
 * readable length, and refusals repeated by one address are aggregated, so a hostile client
 * can neither flood the log (one line per refused attempt) nor fill it with 30 KB names.
 */
import type { Logger } from "pino";

/** Longest client-chosen string written to a log as is. */
export const MAX_LOGGED_CHARS = 64;
/** Longest reason or error text (our own words, which may quote a client's string). */
export const MAX_LOGGED_REASON_CHARS = 160;

/** `value` cut to `max` characters, saying how long it was: `abc…(30000 bytes)`. */
export function clip(value: string, max = MAX_LOGGED_CHARS): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max)}…(${Buffer.byteLength(value)} bytes)`;
}

function clipper(max: number): (value: unknown) => unknown {
  return (value) => {
    if (typeof value === "string") return clip(value, max);
    if (value instanceof Error) return clip(value.message, max);
    return value;
  };
}

/** Log fields that may carry client-chosen text (see the gateway's log calls). */
const CLIENT_FIELDS = [
  "user",
  "service",
  "method",
  "member",
  "signal",
  "property",
  "signature",
  "name",
  "target",
  "origin",
] as const;
const REASON_FIELDS = ["reason", "err"] as const;

/**
 * A child of `logger` that clips the client-chosen fields of every record it writes, and of
 * every child made from it (the gateway hands it to its router, upstream and registrations).
 */
export function clippingLogger(logger: Logger): Logger {
  const serializers: Record<string, (v: unknown) => unknown> = {};
  for (const field of CLIENT_FIELDS) serializers[field] = clipper(MAX_LOGGED_CHARS);
  for (const field of REASON_FIELDS) serializers[field] = clipper(MAX_LOGGED_REASON_CHARS);
  return logger.child({}, { serializers });
}

export interface RefusalLogOptions {
  /** At most one line per (reason, address) per interval. Default 10 s. */
  intervalMs?: number;
  /** (reason, address) pairs tracked at once; past it, refusals are counted together. Default 1,000. */
  maxKeys?: number;
}

interface Repeats {
  address: string;
  reason: string;
  /** When the last line for this pair was written. */
  loggedAt: number;
  /** Refusals since that line, not logged one by one. */
  more: number;
}

const OVERFLOW = "\0overflow";

/**
 * Logs "client refused" at most once per reason and address per interval; the refusals in
 * between are counted and reported as "… and N more" when the interval ends.
 */
export class RefusalLog {
  private readonly repeats = new Map<string, Repeats>();
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    options: RefusalLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxKeys = options.maxKeys ?? 1_000;
  }

  /** A refused client: `address` its source (no port), `fields` what else to log the first time. */
  refused(address: string, reason: string, fields: Record<string, unknown> = {}, now = Date.now()): void {
    // Numbers in a reason ("retry in 12 s") do not make it another reason.
    let key = `${reason.replace(/\d+/g, "#").slice(0, 200)}\0${address}`;
    let entry = this.repeats.get(key);
    if (!entry && this.repeats.size >= this.maxKeys) {
      key = OVERFLOW;
      entry = this.repeats.get(key);
      address = "(many addresses)";
      reason = "(many reasons)";
    }
    if (entry && now - entry.loggedAt < this.intervalMs) {
      entry.more++;
      return;
    }
    if (entry && entry.more > 0) this.summarize(entry);
    this.logger.info({ ...fields, address, reason }, "client refused");
    this.repeats.set(key, { address, reason, loggedAt: now, more: 0 });
    this.timer ??= setInterval(() => this.flush(), this.intervalMs).unref();
  }

  /** Reports the counts of the intervals that ended; forgets quiet pairs. */
  flush(now = Date.now(), all = false): void {
    for (const [key, entry] of this.repeats) {
      if (!all && now - entry.loggedAt < this.intervalMs) continue;
      if (entry.more > 0) {
        this.summarize(entry);
        entry.more = 0;
        entry.loggedAt = now;
      } else this.repeats.delete(key);
    }
    if (all) this.repeats.clear();
    if (this.repeats.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Writes what is still counted (on close). */
  close(): void {
    this.flush(Date.now(), true);
  }

  /** Pairs tracked now. */
  get size(): number {
    return this.repeats.size;
  }

  private summarize(entry: Repeats): void {
    this.logger.info(
      { address: entry.address, reason: entry.reason, more: entry.more, intervalMs: this.intervalMs },
      `client refused … and ${entry.more} more`,
    );
  }
}

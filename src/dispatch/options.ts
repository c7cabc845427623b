/**
 * The dispatcher's options: what callers may pass, and their defaults and validation in one
 * place (resolveDispatcherOptions), so the dispatcher and its pool read settled values only.
 */
import { availableParallelism } from "node:os";
import { DispatchError } from "./errors.js";
import { type DispatchMode, dispatchModeFromEnv, parseDispatchMode } from "./mode.js";
import type { Strand } from "./strand.js";

export interface RunOptions {
  /** Serialize with every other task of this strand (per-object serialization). */
  strand?: Strand;
  /** The caller's cancellation (a qi Cancel message, spec §5.5). */
  signal?: AbortSignal;
  /** Overrides the dispatcher's callTimeoutMs for this task. */
  timeoutMs?: number;
  /** Shown in errors and passed to onError ("Service.method"). */
  label?: string;
}

export interface DeliverOptions {
  /** Deliver in this strand (a subscriber object's strand). */
  strand?: Strand;
  label?: string;
}

export interface DispatcherOptions {
  /** Default: QI_DISPATCH from the environment, else "async". */
  mode?: DispatchMode;
  /** Worker threads for runOnPool. Default max(1, CPUs - 1). */
  poolSize?: number;
  /** Timeout applied to every run/runOnPool without its own timeoutMs. Default: none. */
  callTimeoutMs?: number;
  /** An idle pool worker exits after this long (one is kept). Default 30 s. */
  poolIdleTimeoutMs?: number;
  /** Receives errors of `deliver` callbacks, which have no caller. Default: process.emitWarning. */
  onError?: (error: unknown, label: string | undefined) => void;
}

export interface DispatcherStats {
  /** Tasks started and not settled (pool tasks: running on a worker). */
  running: number;
  /** Tasks waiting: for the sync gate, for a strand, or for a free pool worker. */
  queued: number;
  poolThreads: number;
  completed: number;
  failed: number;
}

/** DispatcherOptions with every default applied and every value checked. */
export interface ResolvedDispatcherOptions {
  readonly mode: DispatchMode;
  readonly poolSize: number;
  readonly callTimeoutMs: number | undefined;
  readonly poolIdleTimeoutMs: number;
  readonly onError: (error: unknown, label: string | undefined) => void;
}

export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 30_000;

/** One worker per core, leaving one for the event loop; at least one. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

function defaultOnError(error: unknown, label: string | undefined): void {
  const what = label === undefined ? "a delivered callback" : `delivered callback ${label}`;
  process.emitWarning(
    `${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    { code: "QI_DISPATCH_DELIVER" },
  );
}

/** Defaults and validation of the dispatch layer, in one place. */
export function resolveDispatcherOptions(opts: DispatcherOptions = {}): ResolvedDispatcherOptions {
  const mode = opts.mode === undefined ? dispatchModeFromEnv() : parseDispatchMode(String(opts.mode), "mode");
  const {
    callTimeoutMs,
    poolSize = defaultPoolSize(),
    poolIdleTimeoutMs = DEFAULT_POOL_IDLE_TIMEOUT_MS,
  } = opts;
  if (callTimeoutMs !== undefined && !(callTimeoutMs > 0))
    throw new DispatchError("ERR_BAD_OPTIONS", `callTimeoutMs must be > 0, got ${callTimeoutMs}`);
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new DispatchError("ERR_BAD_OPTIONS", `poolSize must be an integer >= 1, got ${poolSize}`);
  if (!(poolIdleTimeoutMs > 0))
    throw new DispatchError("ERR_BAD_OPTIONS", `poolIdleTimeoutMs must be > 0, got ${poolIdleTimeoutMs}`);
  return { mode, poolSize, callTimeoutMs, poolIdleTimeoutMs, onError: opts.onError ?? defaultOnError };
}

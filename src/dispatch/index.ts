/** dispatch/: when and where a service method runs (async, sync, worker pool) and per-object strands; knows nothing of networking. */
export {
  type DeliverOptions,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStats,
  type RunOptions,
} from "./dispatcher.js";
export { DispatchError, type DispatchErrorCode, isDispatchError } from "./errors.js";
export { DISPATCH_MODES, type DispatchMode, dispatchModeFromEnv, parseDispatchMode } from "./mode.js";
export {
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  defaultPoolSize,
  type ResolvedDispatcherOptions,
  resolveDispatcherOptions,
} from "./options.js";
export { Strand } from "./strand.js";

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { isThenable } from "./thenable.js";

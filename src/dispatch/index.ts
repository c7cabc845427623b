/**
 * dispatch/: when and where a service method runs — async (default), sync (one at a time, in
 * arrival order, for debugging), or on a worker-thread pool for CPU-heavy methods — and per-object
 * serialization with strands (spec §9, design.md). Knows nothing of networking.
 */
export {
  type DeliverOptions,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStats,
  type RunOptions,
} from "./dispatcher.js";
export { DispatchError, type DispatchErrorCode, isDispatchError } from "./errors.js";
export { DISPATCH_MODES, type DispatchMode, dispatchModeFromEnv, parseDispatchMode } from "./mode.js";
export { defaultPoolSize } from "./pool.js";
export { Strand } from "./strand.js";

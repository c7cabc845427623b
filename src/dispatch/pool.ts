/**
 * The worker-thread pool for CPU-heavy methods (design.md: libqi's general thread pool, spec §9,
 * becomes a pool of Node worker threads for methods declared CPU-heavy). Built on piscina; the
 * pool is created on first use, so a process that never runs a heavy method starts no thread.
 *
 * Arguments and results cross the thread boundary by structured clone. Errors thrown by the
 * function arrive as an Error with the same name, message, stack and cloneable own properties
 * (such as `code`), but not the same class.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import { DispatchError } from "./errors.js";
import type { PoolOutcome, PoolTask, TransferredError } from "./pool-worker.js";

/** Settled by resolveDispatcherOptions (options.ts): defaults and checks live there. */
export interface WorkerPoolOptions {
  /** Maximum worker threads. */
  size: number;
  /** A worker idle this long exits (one is kept). */
  idleTimeoutMs: number;
}

// From sources (vitest, tsx) this module is pool.ts and the worker entry must first register tsx;
// from dist/ it is pool.js and the compiled pool-worker.js loads as is.
function workerEntry(): string {
  const here = import.meta.url;
  return /\.[cm]?ts$/.test(new URL(here).pathname)
    ? new URL("./pool-worker-tsx.mjs", here).href
    : new URL("./pool-worker.js", here).href;
}

/** Module URL, file URL object, or a file path (absolute, or relative to the working directory). */
export function toModuleUrl(file: string | URL): string {
  if (file instanceof URL) return file.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(file) && !/^[a-z]:[\\/]/i.test(file)) return file;
  return pathToFileURL(isAbsolute(file) ? file : resolve(file)).href;
}

function reviveError(t: TransferredError): Error {
  const e =
    t.name === "DispatchError" && t.props.code === "ERR_NO_EXPORT"
      ? new DispatchError("ERR_NO_EXPORT", t.message)
      : new Error(t.message);
  if (e.name !== t.name) e.name = t.name;
  if (t.stack !== undefined) e.stack = t.stack;
  for (const [k, v] of Object.entries(t.props)) {
    if (k !== "name" && k !== "message" && k !== "stack" && k !== "code")
      (e as unknown as Record<string, unknown>)[k] = v;
  }
  if ("code" in t.props && !(e instanceof DispatchError))
    (e as Error & { code?: unknown }).code = t.props.code;
  return e;
}

export class WorkerPool {
  readonly size: number;
  readonly #idleTimeoutMs: number;
  #piscina: Piscina | null = null;

  constructor(opts: WorkerPoolOptions) {
    this.size = opts.size;
    this.#idleTimeoutMs = opts.idleTimeoutMs;
  }

  get threads(): number {
    return this.#piscina?.threads.length ?? 0;
  }

  /** Tasks waiting for a free worker. */
  get queued(): number {
    return this.#piscina?.queueSize ?? 0;
  }

  #pool(): Piscina {
    if (this.#piscina === null) {
      const p = new Piscina({
        filename: workerEntry(),
        name: "runPoolTask",
        minThreads: 1,
        maxThreads: this.size,
        idleTimeout: this.#idleTimeoutMs,
        // Workers keep their own event loop free between tasks (async functions, timers).
        atomics: "async",
      });
      // piscina emits 'error' for a worker that dies while idle; the pool replaces it, and an
      // unhandled 'error' event would otherwise kill this process.
      p.on("error", () => {});
      this.#piscina = p;
    }
    return this.#piscina;
  }

  /**
   * Runs `exportName(...args)` from module `file` on a worker. Aborting `signal` drops a queued
   * task, or terminates the worker running it (the only way to stop CPU-bound code); the pool
   * then starts a fresh worker.
   */
  async run<T>(file: string | URL, exportName: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    const task: PoolTask = { fileUrl: toModuleUrl(file), exportName, args };
    let outcome: PoolOutcome;
    try {
      outcome = await this.#pool().run(task, { signal: signal ?? null });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new DispatchError(
        "ERR_WORKER_CRASHED",
        `pool worker died while running ${exportName} from ${task.fileUrl}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    if (outcome.ok) return outcome.value as T;
    throw reviveError(outcome.error);
  }

  /** Waits for running tasks, then stops every worker. */
  async close(): Promise<void> {
    const p = this.#piscina;
    this.#piscina = null;
    if (p !== null) await p.close();
  }
}

/**
 * The dispatcher of the browser bundle, bundled in place of src/dispatch/index.ts (whose worker
 * pool and AsyncLocalStorage are Node-only). Browsers have one thread and no pool: every task
 * runs at once ("async" mode without strands), signal callbacks are delivered in a microtask.
 */
export { DispatchError, type DispatchErrorCode, isDispatchError } from "../../../dispatch/errors.js";
import { DispatchError } from "../../../dispatch/errors.js";

export type DispatchMode = "async" | "sync";

export interface RunOptions {
  strand?: Strand;
  signal?: AbortSignal;
  timeoutMs?: number;
  label?: string;
}

/** Objects that ask for a strand get one; in the browser tasks are simply chained. */
export class Strand {
  private tail: Promise<unknown> = Promise.resolve();
  chain<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => {});
    return next;
  }
}

const never = new AbortController().signal;

export class Dispatcher {
  readonly mode: DispatchMode = "async";
  private closed = false;

  run<T>(task: (signal: AbortSignal) => T | Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new DispatchError("ERR_CLOSED", "dispatcher closed"));
    const go = async (): Promise<T> => task(opts.signal ?? never);
    return opts.strand ? opts.strand.chain(go) : go();
  }

  runOnPool<T>(): Promise<T> {
    return Promise.reject(new DispatchError("ERR_NO_EXPORT", "no worker pool in the browser"));
  }

  deliver(callback: () => void | Promise<void>): void {
    queueMicrotask(() => {
      try {
        const r = callback();
        if (r instanceof Promise) r.catch((e) => console.error("signal callback failed:", e));
      } catch (e) {
        console.error("signal callback failed:", e);
      }
    });
  }

  yieldWhile<T>(promise: PromiseLike<T>): Promise<T> {
    return Promise.resolve(promise);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function dispatchModeFromEnv(): DispatchMode {
  return "async";
}

export function parseDispatchMode(): DispatchMode {
  return "async";
}

export const DISPATCH_MODES = ["async", "sync"] as const;

export function defaultPoolSize(): number {
  return 0;
}

/**
 * The dispatcher of the browser bundle, bundled in place of src/dispatch/index.ts (whose worker
 * pool and AsyncLocalStorage are Node-only). Browsers have one thread and no pool: every task
 * runs at once ("async" mode without strands), signal callbacks are delivered in a microtask.
 */
export { DispatchError, type DispatchErrorCode, isDispatchError } from "../../../dispatch/errors.js";
import type { Dispatcher as NodeDispatcher } from "../../../dispatch/dispatcher.js";
import { DispatchError } from "../../../dispatch/errors.js";
export { isThenable } from "../../../dispatch/thenable.js";

/**
 * What the shared code (src/object, src/connection) calls on a dispatcher. The shim implements
 * it, so the type checker catches a member added on Node and missing in the browser.
 */
type SharedDispatcherApi = Pick<
  NodeDispatcher,
  "mode" | "run" | "runNow" | "runOnPool" | "deliver" | "yieldWhile" | "close"
>;

export type DispatchMode = "async" | "sync";

export interface RunOptions {
  /** A Strand; typed loosely so that Node's RunOptions fit (in the bundle, Strand is this one). */
  strand?: unknown;
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

export class Dispatcher implements SharedDispatcherApi {
  readonly mode: DispatchMode = "async";
  private closed = false;

  run<T>(task: (signal: AbortSignal) => T | Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new DispatchError("ERR_CLOSED", "dispatcher closed"));
    const go = async (): Promise<T> => task(opts.signal ?? never);
    return opts.strand instanceof Strand ? opts.strand.chain(go) : go();
  }

  /** A direct call: what run() does without a strand, minus the promise (see the Node dispatcher). */
  runNow<T>(fn: (...args: never[]) => T, thisArg: unknown, args: unknown[]): T {
    if (this.closed) throw new DispatchError("ERR_CLOSED", "dispatcher closed");
    return (fn as (...a: unknown[]) => T).apply(thisArg, args);
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

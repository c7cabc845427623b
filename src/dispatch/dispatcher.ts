/**
 * When and where a service method runs (design.md, `dispatch/`; libqi's model in spec §9).
 * Knows nothing of networking: the object layer hands it tasks (method calls, signal callbacks).
 *
 * Modes
 * - `async` (default): a task starts at once, synchronously inside `run`. A task that returns a
 *   promise keeps running while others start, so a long call never delays other calls or
 *   clients. Tasks given a Strand wait for that strand (FIFO) and never overlap.
 * - `sync`: one global FIFO queue (the "gate"). One task at a time runs to completion — the
 *   promise it returned settles — in arrival order; `deliver` callbacks share the queue, so the
 *   logs tell one story. A queued task whose strand is held (by a task that yielded, see below)
 *   is skipped until the strand is free; otherwise order is strict arrival order.
 *
 * Reentrancy rules (how sync mode avoids deadlocks that async mode does not have)
 * 1. Direct call: `run()` called from inside a running task that already holds what the new task
 *    needs — in sync mode the gate (and the requested strand, if any, is free or held by the
 *    caller); in async mode the requested strand — runs the new task immediately, inline, like a
 *    function call (libqi runs a call made from inside the strand directly). So a task A that
 *    does `await dispatcher.run(B)` works in both modes. As with any direct call, if A does not
 *    await B, A's and B's awaits interleave. `deliver` never runs inline: a signal emitted by a
 *    task is delivered after that task, in queue order.
 * 2. Yield: a task that waits for something *outside* its own call chain that needs the
 *    dispatcher — a remote reply whose peer calls back into this process, or a task queued by
 *    someone else — wraps that wait in `await dispatcher.yieldWhile(promise)`. While the promise
 *    is pending, the gate is free and queued tasks run, one at a time; once it settles the task
 *    resumes ahead of everything still queued (after the task currently holding the gate
 *    finishes or yields itself). Strands stay held while yielding: yielding only removes the
 *    serialization that sync mode adds, it never weakens a strand. The object layer wraps every
 *    outgoing remote call in yieldWhile, so service code need not; outside sync mode or outside
 *    a task, yieldWhile(p) is just p.
 *
 * Cancellation and timeouts: when the caller's `signal` aborts or `timeoutMs` (default
 * `callTimeoutMs`, default none; counted from the `run` call, queueing included) elapses, `run`
 * rejects at once with DispatchError ERR_CANCELED / ERR_TIMEOUT and the task's own AbortSignal
 * aborts. A queued task is dropped without running. A running task loses the gate and its strand
 * immediately, so a stuck task cannot block others; whatever it still does after ignoring its
 * signal runs unserialized.
 *
 * The task's signal, and why it is not always a fresh one: `new AbortController()` costs ~4 µs
 * on Node 20, several times the rest of `run`. A task that declares no parameter (`() => …`)
 * cannot look at its signal, so it gets a shared never-aborting one. A task that declares one
 * gets: with a timeout, a controller of its own (abort reason: the DispatchError); else the
 * caller's signal itself (reason: the caller's); else a fresh never-aborting signal. (A task
 * written `(...args) => …` declares no parameter: use `(signal) => …` to see aborts.)
 *
 * Context tracking (rules 1 and 2) uses AsyncLocalStorage, which on Node 20 installs promise
 * hooks that slow every promise in the process by ~10%. It is therefore switched on only where
 * needed: always in sync mode, and in async mode only once a task uses a strand.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { DispatchError, isDispatchError } from "./errors.js";
import { heldInChain, type Job, NEVER_ABORTED, type Resumer, rootOf } from "./job.js";
import type { DispatchMode } from "./mode.js";
import {
  type DeliverOptions,
  type DispatcherOptions,
  type DispatcherStats,
  type RunOptions,
  resolveDispatcherOptions,
} from "./options.js";
import { WorkerPool } from "./pool.js";
import type { Strand } from "./strand.js";
import { isThenable } from "./thenable.js";

export type { DeliverOptions, DispatcherOptions, DispatcherStats, RunOptions } from "./options.js";

export class Dispatcher {
  readonly mode: DispatchMode;
  readonly #callTimeoutMs: number | undefined;
  readonly #onError: (error: unknown, label: string | undefined) => void;
  readonly #pool: WorkerPool;
  readonly #context = new AsyncLocalStorage<Job>();
  /** Whether tasks run inside #context (see the header comment). */
  #tracking: boolean;

  // sync mode: the gate and its queue
  #gateHolder: Job | null = null;
  readonly #queue: Job[] = [];
  readonly #resumers: Resumer[] = [];
  #pumping = false;

  readonly #queued = new Set<Job>();
  readonly #running = new Set<Job>();
  /** Tasks started by runNow whose promise has not settled. */
  #runningNow = 0;
  #idleWaiters: Array<() => void> = [];
  #completed = 0;
  #failed = 0;
  #closed = false;

  constructor(options: DispatcherOptions = {}) {
    const opts = resolveDispatcherOptions(options);
    this.mode = opts.mode;
    this.#callTimeoutMs = opts.callTimeoutMs;
    this.#tracking = this.mode === "sync";
    this.#onError = opts.onError;
    this.#pool = new WorkerPool({ size: opts.poolSize, idleTimeoutMs: opts.poolIdleTimeoutMs });
  }

  /**
   * Runs `task` under the dispatch policy; settles with its result or its error, unchanged. The
   * task receives an AbortSignal that aborts on cancel, timeout (reason: the DispatchError).
   */
  run<T>(task: (signal: AbortSignal) => T | Promise<T>, opts: RunOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#submit(task, opts, resolve as (v: unknown) => void, reject, false);
    });
  }

  /**
   * Async mode only, for a task with no strand, no signal and no timeout: calls
   * `fn.apply(thisArg, args)` now and returns what it returns (a value, or a promise) or throws
   * what it throws, counted like `run`. It is what `run` does in that case, minus the promise
   * and the task record that a method answering synchronously does not need.
   */
  runNow<T>(fn: (...args: never[]) => T, thisArg: unknown, args: unknown[]): T {
    if (this.mode !== "async") throw new DispatchError("ERR_BAD_MODE", "runNow is for async mode");
    if (this.#closed) throw new DispatchError("ERR_CLOSED", "dispatcher closed");
    let result: T;
    try {
      result = (fn as (...a: unknown[]) => T).apply(thisArg, args);
    } catch (e) {
      this.#failed++;
      throw e;
    }
    if (!isThenable(result)) {
      this.#completed++;
      return result;
    }
    this.#runningNow++;
    const settle = (ok: boolean) => {
      this.#runningNow--;
      if (ok) this.#completed++;
      else this.#failed++;
      this.#wakeIdleWaiters();
    };
    return Promise.resolve(result).then(
      (v) => {
        settle(true);
        return v;
      },
      (e) => {
        settle(false);
        throw e;
      },
    ) as T;
  }

  /**
   * Runs `exportName(...args)` of module `fileUrl` (a module URL or file path; ESM .js, or .ts
   * when tsx is installed) on the worker pool. It takes its place in the queue, strand and gate
   * like `run`, but the CPU work happens on another thread so the event loop stays responsive.
   * Cancel or timeout terminates the worker (the pool starts a new one). A worker that dies
   * fails only this call, with ERR_WORKER_CRASHED.
   */
  runOnPool<T>(
    fileUrl: string | URL,
    exportName: string,
    args: unknown[],
    opts: RunOptions = {},
  ): Promise<T> {
    return this.run((signal) => this.#pool.run<T>(fileUrl, exportName, args, signal), {
      ...opts,
      label: opts.label ?? exportName,
    });
  }

  /**
   * Runs a signal callback under the same policy as calls (sync mode: same queue, so ordered
   * with calls). Never inline; errors go to `onError`.
   */
  deliver(callback: () => void | Promise<void>, opts: DeliverOptions = {}): void {
    this.#submit(
      callback,
      { strand: opts.strand, label: opts.label },
      () => {},
      (e) => {
        if (!isDispatchError(e, "QI_ERR_DISPATCH_CLOSED")) this.#onError(e, opts.label);
      },
      true,
    );
  }

  /**
   * Sync mode: lets queued tasks run while the current task waits for `promise` (rule 2 above).
   * Elsewhere: returns `promise` as is.
   */
  yieldWhile<T>(promise: PromiseLike<T>): Promise<T> {
    // Not an async function: outside sync mode the promise is handed back as it is, without
    // the extra promise an async function would wrap it in.
    if (this.mode !== "sync") return promise instanceof Promise ? promise : Promise.resolve(promise);
    return this.#yieldWhileSync(promise);
  }

  async #yieldWhileSync<T>(promise: PromiseLike<T>): Promise<T> {
    const current = this.#context.getStore();
    if (current === undefined || current.state !== "running") return promise;
    const root = rootOf(current);
    if (this.#gateHolder !== root) return promise;
    this.#gateHolder = null;
    this.#pumpSync();
    try {
      return await promise;
    } finally {
      await new Promise<void>((grant) => {
        this.#resumers.push({ job: root, grant });
        this.#pumpSync();
      });
    }
  }

  stats(): DispatcherStats {
    const poolQueued = this.#pool.queued;
    return {
      running: Math.max(0, this.#running.size + this.#runningNow - poolQueued),
      queued: this.#queued.size + poolQueued,
      poolThreads: this.#pool.threads,
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  /**
   * Stops accepting tasks: queued tasks and later calls reject with ERR_CLOSED. Waits for the
   * running tasks to settle, then stops the pool workers.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const job of [...this.#queued]) {
        this.#abort(job, new DispatchError("ERR_CLOSED", "dispatcher closed", { label: job.label }));
      }
    }
    if (this.#running.size + this.#runningNow > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
    await this.#pool.close();
  }

  #submit(
    body: (signal: AbortSignal) => unknown,
    opts: RunOptions,
    resolve: (v: unknown) => void,
    reject: (e: unknown) => void,
    isDelivery: boolean,
  ): void {
    const label = opts.label;
    if (this.#closed) {
      this.#failed++;
      reject(new DispatchError("ERR_CLOSED", `${label ?? "task"}: dispatcher closed`, { label }));
      return;
    }
    const signal = opts.signal;
    if (signal?.aborted) {
      this.#failed++;
      reject(
        new DispatchError("ERR_CANCELED", `${label ?? "task"} canceled`, { label, cause: signal.reason }),
      );
      return;
    }
    const job: Job = {
      body,
      label,
      strand: opts.strand,
      controller: undefined,
      taskSignal: NEVER_ABORTED,
      resolve,
      reject,
      parent: undefined,
      state: "queued",
      ownsStrand: false,
      timer: undefined,
      signal,
      onAbort: undefined,
      start: () => {
        job.strand!._holder = job;
        job.ownsStrand = true;
        this.#queued.delete(job);
        this.#start(job);
      },
    };
    const timeoutMs = opts.timeoutMs ?? (isDelivery ? undefined : this.#callTimeoutMs);
    const hasTimeout = timeoutMs !== undefined && Number.isFinite(timeoutMs);
    if (hasTimeout && body.length > 0) {
      job.controller = new AbortController();
      job.taskSignal = job.controller.signal;
    } else if (signal !== undefined) {
      job.taskSignal = signal;
    } else if (body.length > 0) {
      job.taskSignal = new AbortController().signal;
    }
    if (opts.strand !== undefined) this.#tracking = true;
    if (hasTimeout) {
      job.timer = setTimeout(() => {
        this.#abort(
          job,
          new DispatchError("ERR_TIMEOUT", `${label ?? "task"} timed out after ${timeoutMs} ms`, { label }),
        );
      }, timeoutMs);
    }
    if (signal !== undefined) {
      job.onAbort = () => {
        this.#abort(
          job,
          new DispatchError("ERR_CANCELED", `${label ?? "task"} canceled`, { label, cause: signal.reason }),
        );
      };
      signal.addEventListener("abort", job.onAbort, { once: true });
    }
    this.#place(job, isDelivery);
  }

  #place(job: Job, isDelivery: boolean): void {
    const strand = job.strand;
    const current = isDelivery || !this.#tracking ? undefined : this.#context.getStore();
    if (current !== undefined && current.state === "running" && this.#canRunInline(current, strand)) {
      job.parent = current;
      if (strand !== undefined && strand._holder === null) {
        strand._holder = job;
        job.ownsStrand = true;
      }
      this.#start(job);
      return;
    }
    if (this.mode === "sync") {
      this.#queue.push(job);
      this.#queued.add(job);
      this.#pumpSync();
      return;
    }
    if (strand === undefined) {
      this.#start(job);
    } else if (strand._holder === null) {
      job.start();
    } else {
      strand._waiting.push(job);
      this.#queued.add(job);
    }
  }

  #canRunInline(current: Job, strand: Strand | undefined): boolean {
    if (this.mode === "sync") {
      if (this.#gateHolder !== rootOf(current)) return false;
      return strand === undefined || strand._holder === null || heldInChain(current, strand);
    }
    return strand !== undefined && heldInChain(current, strand);
  }

  /** Sync mode: hands the free gate to a resuming task, else to the first runnable queued task. */
  #pumpSync(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#gateHolder === null) {
        const resumer = this.#resumers.shift();
        if (resumer !== undefined) {
          // A task canceled while yielded resumes without the gate (it lost its place).
          if (resumer.job.state === "running") this.#gateHolder = resumer.job;
          resumer.grant();
          continue;
        }
        const i = this.#queue.findIndex((j) => j.strand === undefined || j.strand._holder === null);
        if (i < 0) break;
        const job = this.#queue[i];
        this.#queue.splice(i, 1);
        this.#queued.delete(job);
        this.#gateHolder = job;
        if (job.strand !== undefined) {
          job.strand._holder = job;
          job.ownsStrand = true;
        }
        this.#start(job);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(job: Job): void {
    job.state = "running";
    this.#running.add(job);
    let result: unknown;
    try {
      result = this.#tracking ? this.#context.run(job, job.body, job.taskSignal) : job.body(job.taskSignal);
    } catch (e) {
      result = Promise.reject(e);
    }
    // Always settle asynchronously: keeps the stack flat when many tasks complete synchronously.
    Promise.resolve(result).then(
      (v) => this.#settle(job, true, v),
      (e) => this.#settle(job, false, e),
    );
  }

  #settle(job: Job, ok: boolean, value: unknown): void {
    if (job.state === "done") return; // canceled or timed out earlier: its caller has its answer
    this.#finish(job);
    if (ok) {
      this.#completed++;
      job.resolve(value);
    } else {
      this.#failed++;
      job.reject(value);
    }
  }

  #abort(job: Job, error: DispatchError): void {
    if (job.state === "done") return;
    if (job.state === "queued") {
      const q = job.strand !== undefined && this.mode === "async" ? job.strand._waiting : this.#queue;
      const i = q.indexOf(job);
      if (i >= 0) q.splice(i, 1);
      this.#queued.delete(job);
    }
    this.#finish(job);
    this.#failed++;
    job.reject(error);
    job.controller?.abort(error);
  }

  /** Marks the job done and releases what it holds: timer, listener, gate, strand. */
  #finish(job: Job): void {
    const wasRunning = job.state === "running";
    job.state = "done";
    if (job.timer !== undefined) clearTimeout(job.timer);
    if (job.onAbort !== undefined) job.signal!.removeEventListener("abort", job.onAbort);
    if (!wasRunning) return;
    this.#running.delete(job);
    if (job.ownsStrand) {
      const strand = job.strand!;
      job.ownsStrand = false;
      strand._holder = null;
      if (this.mode === "async") strand._waiting.shift()?.start();
    }
    if (this.#gateHolder === job) this.#gateHolder = null;
    if (this.mode === "sync") this.#pumpSync();
    this.#wakeIdleWaiters();
  }

  #wakeIdleWaiters(): void {
    if (this.#running.size + this.#runningNow === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

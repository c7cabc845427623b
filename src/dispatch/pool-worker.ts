/**
 * Runs inside a pool worker thread (loaded by piscina). Each task names a module URL, an export
 * and its arguments; the answer is an envelope, so the main thread can tell an error *thrown by
 * the function* (passed on to the caller) from a worker that died (ERR_WORKER_CRASHED).
 *
 * Modules are imported with plain `import()`. A TypeScript module (.ts/.mts/.cts) that Node cannot
 * load by itself is loaded through tsx's ESM hooks, registered in this worker on first need (tsx
 * must then be installed; Node 20 does not pass `--import` loaders on to worker threads).
 */
export interface PoolTask {
  fileUrl: string;
  exportName: string;
  args: unknown[];
}

/** An error as it crosses the thread boundary: structured clone keeps only name/message/stack. */
export interface TransferredError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties that survive structured cloning (e.g. `code`). */
  props: Record<string, unknown>;
}

export type PoolOutcome = { ok: true; value: unknown } | { ok: false; error: TransferredError };

const TS_FILE = /\.[cm]?ts$/;
let tsLoaderPresent = false;

/** Called by the source-mode entry (pool-worker-tsx.mjs), which has already registered tsx. */
export function noteTsLoaderPresent(): void {
  tsLoaderPresent = true;
}

async function registerTsx(url: string): Promise<void> {
  let api: { register(): unknown };
  try {
    api = await import("tsx/esm/api");
  } catch (cause) {
    throw new Error(`cannot load TypeScript worker module ${url}: install tsx or pass compiled JS`, {
      cause,
    });
  }
  api.register();
  tsLoaderPresent = true;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  // Register before the first import of a .ts module: Node caches a failed import of a URL, so
  // trying plain import() first and retrying after registering would fail again.
  if (!tsLoaderPresent && TS_FILE.test(new URL(url).pathname)) await registerTsx(url);
  return await import(url);
}

export function transferError(e: unknown): TransferredError {
  if (!(e instanceof Error)) {
    return { name: "Error", message: String(e), props: { thrown: cloneable(e) ? e : String(e) } };
  }
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (cloneable(v)) props[k] = v;
  return { name: e.name, message: e.message, stack: e.stack, props };
}

function cloneable(v: unknown): boolean {
  if (v === null || typeof v !== "object") return typeof v !== "function" && typeof v !== "symbol";
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

export async function runPoolTask(task: PoolTask): Promise<PoolOutcome> {
  let fn: unknown;
  try {
    const mod = await importModule(task.fileUrl);
    fn = mod[task.exportName];
  } catch (e) {
    return { ok: false, error: transferError(e) };
  }
  if (typeof fn !== "function") {
    return {
      ok: false,
      error: {
        name: "DispatchError",
        message: `${task.fileUrl} has no exported function ${JSON.stringify(task.exportName)}`,
        props: { code: "ERR_NO_EXPORT" },
      },
    };
  }
  try {
    return { ok: true, value: await fn(...task.args) };
  } catch (e) {
    return { ok: false, error: transferError(e) };
  }
}

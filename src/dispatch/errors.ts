/**
 * Errors raised by the dispatcher itself. Errors thrown by a task are never wrapped: they reach
 * the caller of `run` unchanged (the object layer turns them into qi Error replies, spec §5.3).
 */
export type DispatchErrorCode =
  | "ERR_CANCELED" // the caller's AbortSignal fired (a qi Cancel, spec §5.5) before the task settled
  | "ERR_TIMEOUT" // timeoutMs / callTimeoutMs elapsed before the task settled
  | "ERR_WORKER_CRASHED" // the pool worker running the call exited or threw outside the call
  | "ERR_NO_EXPORT" // the pool module has no exported function of that name
  | "ERR_CLOSED" // the dispatcher was closed before the task could run
  | "ERR_BAD_MODE"; // a dispatch mode other than "async" or "sync"

export class DispatchError extends Error {
  readonly code: DispatchErrorCode;
  /** The task's label (RunOptions.label), when one was given. */
  readonly label: string | undefined;

  constructor(code: DispatchErrorCode, message: string, options?: { label?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DispatchError";
    this.code = code;
    this.label = options?.label;
  }
}

export function isDispatchError(e: unknown, code?: DispatchErrorCode): e is DispatchError {
  return e instanceof DispatchError && (code === undefined || e.code === code);
}

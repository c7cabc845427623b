/**
 * Errors raised by the dispatcher itself, with package-unique codes (`QI_ERR_DISPATCH_...`).
 * Errors thrown by a task are never wrapped: they reach the caller of `run` unchanged (the
 * object layer turns them into qi Error replies, spec §5.3).
 */
import { brandErrorClass, prefixedCode, QiBaseError } from "../errors/index.js";

export const DISPATCH_ERROR_REASONS = [
  "CANCELED", // the caller's AbortSignal fired (a qi Cancel, spec §5.5) before the task settled
  "TIMEOUT", // timeoutMs / callTimeoutMs elapsed before the task settled
  "WORKER_CRASHED", // the pool worker running the call exited or threw outside the call
  "NO_EXPORT", // the pool module has no exported function of that name
  "CLOSED", // the dispatcher was closed before the task could run
  "BAD_MODE", // a dispatch mode other than "async" or "sync", or a call the mode does not allow
  "BAD_OPTIONS", // an option out of range (pool size, timeout)
] as const;
type DispatchErrorReason = (typeof DISPATCH_ERROR_REASONS)[number];
/** The code a DispatchError carries. */
export type DispatchErrorCode = `QI_ERR_DISPATCH_${DispatchErrorReason}`;
/** The short spelling accepted by the constructor and `isDispatchError` (`ERR_CLOSED`). */
export type DispatchErrorLocalCode = `ERR_${DispatchErrorReason}`;

export class DispatchError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.DispatchError");
  static readonly codes: readonly DispatchErrorCode[] = DISPATCH_ERROR_REASONS.map(
    (r) => `QI_ERR_DISPATCH_${r}` as const,
  );
  declare readonly code: DispatchErrorCode;
  /** The task's label (RunOptions.label), when one was given. */
  readonly label: string | undefined;

  constructor(
    code: DispatchErrorCode | DispatchErrorLocalCode,
    message: string,
    options?: { label?: string; cause?: unknown },
  ) {
    super(prefixedCode<DispatchErrorCode>("DISPATCH_", code), message, options);
    this.name = "DispatchError";
    this.label = options?.label;
  }
}
brandErrorClass(DispatchError);

export function isDispatchError(
  e: unknown,
  code?: DispatchErrorCode | DispatchErrorLocalCode,
): e is DispatchError {
  return DispatchError.is(e, code === undefined ? undefined : prefixedCode("DISPATCH_", code));
}

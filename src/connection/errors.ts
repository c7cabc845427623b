/**
 * Errors of the messaging layers (connection, object, session, gateway). Stable, package-unique
 * `code`s (`QI_ERR_...`) that callers can switch on; `remote` tells whether the text came from
 * the peer (an Error message) or was produced locally.
 */
import { brandErrorClass, prefixedCode, QiBaseError } from "../errors/index.js";

export const QI_ERROR_REASONS = [
  "REMOTE", // the peer answered with an Error message; `message` is its text
  "CANCELED", // the call was cancelled (Canceled answer, or locally aborted)
  "DISCONNECTED", // the connection closed while the call was pending
  "TIMEOUT", // no answer in time (handshake, call, service wait)
  "AUTH", // authentication refused or malformed
  "HANDSHAKE", // the peer broke the handshake protocol
  "NO_SUCH_SERVICE",
  "NO_SUCH_OBJECT",
  "NO_SUCH_MEMBER", // unknown method, signal or property
  "BAD_ARGUMENTS", // arguments that do not fit any overload
  "LIMIT", // a configured limit was reached (pending calls, queue length)
  "PERMISSION", // the gateway's permissions refuse it
  "CLOSED", // the session or connection was closed by us
  "PROTOCOL", // a message that makes no sense at this point
  "CONFLICT", // a second layer attached to a connection where one already is (a programming error)
] as const;
type QiErrorReason = (typeof QI_ERROR_REASONS)[number];
/** The code a QiError carries. */
export type QiErrorCode = `QI_ERR_${QiErrorReason}`;
/** The short spelling accepted by the constructor and `isQiError` (`ERR_CLOSED`). */
export type QiErrorLocalCode = `ERR_${QiErrorReason}`;

export interface QiErrorDetails {
  remote?: boolean;
  peer?: string;
  service?: number;
  object?: number;
  action?: number;
  messageId?: number;
  cause?: unknown;
}

export class QiError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.QiError");
  static readonly codes: readonly QiErrorCode[] = QI_ERROR_REASONS.map((r) => `QI_ERR_${r}` as const);
  declare readonly code: QiErrorCode;
  readonly remote: boolean;
  readonly peer: string | undefined;
  readonly service: number | undefined;
  readonly object: number | undefined;
  readonly action: number | undefined;
  readonly messageId: number | undefined;

  constructor(code: QiErrorCode | QiErrorLocalCode, message: string, details: QiErrorDetails = {}) {
    super(prefixedCode<QiErrorCode>("", code), message, details);
    this.name = "QiError";
    this.remote = details.remote ?? false;
    this.peer = details.peer;
    this.service = details.service;
    this.object = details.object;
    this.action = details.action;
    this.messageId = details.messageId;
  }
}
brandErrorClass(QiError);

export function isQiError(e: unknown, code?: QiErrorCode | QiErrorLocalCode): e is QiError {
  return QiError.is(e, code === undefined ? undefined : prefixedCode("", code));
}

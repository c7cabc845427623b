/**
 * Errors of the messaging layers (connection, object, session). Stable `code`s that callers
 * can switch on; `remote` tells whether the text came from the peer (an Error message) or
 * was produced locally.
 */
export type QiErrorCode =
  | "ERR_REMOTE" // the peer answered with an Error message; `message` is its text
  | "ERR_CANCELED" // the call was cancelled (Canceled answer, or locally aborted)
  | "ERR_DISCONNECTED" // the connection closed while the call was pending
  | "ERR_TIMEOUT" // no answer in time (handshake, call, service wait)
  | "ERR_AUTH" // authentication refused or malformed
  | "ERR_HANDSHAKE" // the peer broke the handshake protocol
  | "ERR_NO_SUCH_SERVICE"
  | "ERR_NO_SUCH_OBJECT"
  | "ERR_NO_SUCH_MEMBER" // unknown method, signal or property
  | "ERR_BAD_ARGUMENTS" // arguments that do not fit any overload
  | "ERR_LIMIT" // a configured limit was reached (pending calls, queue length)
  | "ERR_PERMISSION" // the gateway's permissions refuse it
  | "ERR_CLOSED" // the session or connection was closed by us
  | "ERR_PROTOCOL" // a message that makes no sense at this point
  | "ERR_CONFLICT"; // a second layer attached to a connection where one already is (a programming error)

export interface QiErrorDetails {
  remote?: boolean;
  peer?: string;
  service?: number;
  object?: number;
  action?: number;
  messageId?: number;
  cause?: unknown;
}

export class QiError extends Error {
  readonly code: QiErrorCode;
  readonly remote: boolean;
  readonly peer: string | undefined;
  readonly service: number | undefined;
  readonly object: number | undefined;
  readonly action: number | undefined;
  readonly messageId: number | undefined;

  constructor(code: QiErrorCode, message: string, details: QiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "QiError";
    this.code = code;
    this.remote = details.remote ?? false;
    this.peer = details.peer;
    this.service = details.service;
    this.object = details.object;
    this.action = details.action;
    this.messageId = details.messageId;
  }
}

export function isQiError(e: unknown, code?: QiErrorCode): e is QiError {
  return e instanceof QiError && (code === undefined || e.code === code);
}

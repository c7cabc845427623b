/**
 * Errors raised by the wire layer. Every error carries a stable `code` that callers can switch
 * on, and, for decoding errors, the byte `offset` at which the input went wrong.
 */
export type WireErrorCode =
  | "ERR_SIGNATURE_INVALID" // a signature string does not parse
  | "ERR_TRUNCATED" // the input ends before the value does
  | "ERR_TRAILING_BYTES" // a payload holds more bytes than its signature explains
  | "ERR_COUNT_TOO_LARGE" // a list/map/string count the remaining bytes cannot hold
  | "ERR_DEPTH_EXCEEDED" // nesting deeper than the configured bound
  | "ERR_BUDGET" // decoding would create more JS values than the input's size allows
  | "ERR_BAD_UTF8" // a string is not valid UTF-8 where text is required
  | "ERR_BAD_MAGIC" // a header that does not start with 42 DE AD 42
  | "ERR_BAD_VERSION" // a header version other than 0
  | "ERR_BAD_TYPE" // a message type outside 1..8
  | "ERR_BAD_FLAGS" // header flag bits outside DynamicPayload|ReturnType
  | "ERR_PAYLOAD_TOO_LARGE" // a header announces more than the configured limit
  | "ERR_UNSERIALIZABLE" // a type with no wire form (X, ~T, _ with data)
  | "ERR_VALUE_MISMATCH" // a JS value that does not fit the signature when encoding
  | "ERR_CONVERSION" // a value that cannot be converted to another signature
  | "ERR_BAD_REFERENCE"; // an object reference naming a MetaObject cache id never received

export class WireError extends Error {
  readonly code: WireErrorCode;
  /** Byte offset in the decoded input (or character offset in a signature), when known. */
  readonly offset: number | undefined;

  constructor(code: WireErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`);
    this.name = "WireError";
    this.code = code;
    this.offset = offset;
  }
}

export function isWireError(e: unknown): e is WireError {
  return e instanceof WireError;
}

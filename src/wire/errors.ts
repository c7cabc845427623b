/**
 * Errors raised by the wire layer. Every error carries a stable, package-unique `code`
 * (`QI_ERR_WIRE_...`) that callers can switch on, and, for decoding errors, the byte `offset`
 * at which the input went wrong.
 */
import { brandErrorClass, prefixedCode, QiBaseError } from "../errors/index.js";

/** The failures, each with the reason it stands for. */
export const WIRE_ERROR_REASONS = [
  "SIGNATURE_INVALID", // a signature string does not parse
  "TRUNCATED", // the input ends before the value does
  "TRAILING_BYTES", // a payload holds more bytes than its signature explains
  "COUNT_TOO_LARGE", // a list/map/string count the remaining bytes cannot hold
  "DEPTH_EXCEEDED", // nesting deeper than the configured bound
  "BUDGET", // decoding would create more JS values than the input's size allows
  "BAD_UTF8", // a string is not valid UTF-8 where text is required
  "BAD_MAGIC", // a header that does not start with 42 DE AD 42
  "BAD_VERSION", // a header version other than 0
  "BAD_TYPE", // a message type outside 1..8
  "BAD_FLAGS", // header flag bits outside DynamicPayload|ReturnType
  "PAYLOAD_TOO_LARGE", // a header announces more than the configured limit
  "UNSERIALIZABLE", // a type with no wire form (X, ~T, _ with data)
  "VALUE_MISMATCH", // a JS value that does not fit the signature when encoding
  "CONVERSION", // a value that cannot be converted to another signature
  "BAD_REFERENCE", // an object reference naming a MetaObject cache id never received
] as const;
type WireErrorReason = (typeof WIRE_ERROR_REASONS)[number];
/** The code a WireError carries. */
export type WireErrorCode = `QI_ERR_WIRE_${WireErrorReason}`;
/** The short spelling accepted by the constructor and `isWireError` (`ERR_TRUNCATED`). */
export type WireErrorLocalCode = `ERR_${WireErrorReason}`;

export class WireError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.WireError");
  static readonly codes: readonly WireErrorCode[] = WIRE_ERROR_REASONS.map(
    (r) => `QI_ERR_WIRE_${r}` as const,
  );
  declare readonly code: WireErrorCode;
  /** Byte offset in the decoded input (or character offset in a signature), when known. */
  readonly offset: number | undefined;

  constructor(code: WireErrorCode | WireErrorLocalCode, message: string, offset?: number) {
    super(
      prefixedCode<WireErrorCode>("WIRE_", code),
      offset === undefined ? message : `${message} (at offset ${offset})`,
    );
    this.name = "WireError";
    this.offset = offset;
  }
}
brandErrorClass(WireError);

export function isWireError(e: unknown, code?: WireErrorCode | WireErrorLocalCode): e is WireError {
  return WireError.is(e, code === undefined ? undefined : prefixedCode("WIRE_", code));
}

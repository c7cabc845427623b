/**
 * The qi-over-WebSocket framing rule, shared by the Node driver (ws.ts) and the browser client:
 * one binary WebSocket message holds exactly one qi message, its 28-byte header followed by its
 * payload. Nothing else is accepted: no text messages, no partial or concatenated qi messages.
 *
 * No Node APIs (only Uint8Array): bundled unchanged into the browser client.
 */
import { WireError } from "../wire/index.js";
import { encodeHeader, messageAt, validateHeaderAt } from "../wire/index.js";
import { HEADER_SIZE, type Message } from "../wire/index.js";

/** WebSocket close codes used by qi-over-WebSocket (RFC 6455 §7.4.1). */
export const WsCloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  /** A frame that is not exactly one well-formed qi message. */
  InvalidMessage: 1007,
  /** A text frame (qi messages are binary). */
  PolicyViolation: 1008,
  /** A message larger than the receiver's maxPayload. */
  TooBig: 1009,
} as const;

/**
 * Reads the one qi message a binary WebSocket frame holds. The payload is a view into `frame`
 * (no copy). Throws WireError: ERR_TRUNCATED (shorter than the header, or than the size the
 * header announces), ERR_TRAILING_BYTES (more than one message), ERR_BAD_MAGIC,
 * ERR_BAD_VERSION, ERR_BAD_TYPE, ERR_PAYLOAD_TOO_LARGE.
 */
export function parseFrame(frame: Uint8Array, maxPayload: number): Message {
  if (frame.length < HEADER_SIZE) {
    throw new WireError(
      "ERR_TRUNCATED",
      `a ${frame.length}-byte WebSocket message cannot hold a qi message (the header alone is ${HEADER_SIZE} bytes)`,
      frame.length,
    );
  }
  const size = validateHeaderAt(frame, 0, maxPayload, false, 0);
  const got = frame.length - HEADER_SIZE;
  if (got < size) {
    throw new WireError(
      "ERR_TRUNCATED",
      `the header announces a ${size}-byte payload but the WebSocket message holds ${got} bytes`,
      frame.length,
    );
  }
  if (got > size) {
    throw new WireError(
      "ERR_TRAILING_BYTES",
      `${got - size} bytes follow the ${size}-byte payload: one WebSocket message must hold exactly one qi message`,
      HEADER_SIZE + size,
    );
  }
  return messageAt(frame, 0, size, frame.subarray(HEADER_SIZE));
}

/**
 * Header and payload of `msg` in one buffer made by `alloc` (default `new Uint8Array`), the
 * binary frame to send. Throws a WireError if a header field is out of range.
 */
export function encodeFrame(
  msg: Message,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const payload = msg.payload;
  const out = alloc(HEADER_SIZE + payload.byteLength);
  encodeHeader(msg, payload.byteLength, out, 0);
  out.set(payload, HEADER_SIZE);
  return out;
}

/** The close code that goes with an error from parseFrame. */
export function closeCodeFor(err: unknown): number {
  return err instanceof WireError && err.code === "QI_ERR_WIRE_PAYLOAD_TOO_LARGE"
    ? WsCloseCode.TooBig
    : WsCloseCode.InvalidMessage;
}

/** A close reason must fit in 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function closeReasonText(text: string): string {
  const enc = new TextEncoder();
  if (enc.encode(text).length <= 123) return text;
  let s = text.slice(0, 120);
  while (enc.encode(`${s}...`).length > 123) s = s.slice(0, -1);
  return `${s}...`;
}

/**
 * The 28-byte message header (spec §1.2):
 *
 *   off  size  field    encoding
 *     0     4  magic    bytes 42 DE AD 42 (compared as raw bytes, never as an integer)
 *     4     4  id       u32 LE
 *     8     4  size     u32 LE, payload length, header excluded
 *    12     2  version  u16 LE, always 0
 *    14     1  type     u8, 1..8 (spec §1.3)
 *    15     1  flags    u8, bit field (spec §1.4)
 *    16     4  service  u32 LE
 *    20     4  object   u32 LE
 *    24     4  action   u32 LE
 *
 * Plain Uint8Array byte arithmetic only (no Node Buffer, no node: imports) so the same code runs in
 * browsers. Integers are assembled by hand instead of through a DataView: it avoids allocating a
 * view per header on the hot path of the framer.
 */
import { WireError } from "./errors.js";
import {
  DEFAULT_MAX_PAYLOAD,
  HEADER_SIZE,
  MAGIC_BYTES,
  type Message,
  type MessageHeader,
  MessageType,
} from "./message-types.js";

const M0 = MAGIC_BYTES[0];
const M1 = MAGIC_BYTES[1];
const M2 = MAGIC_BYTES[2];
const M3 = MAGIC_BYTES[3];

/** The flag bits defined by the protocol: DynamicPayload (0x01) | ReturnType (0x02). */
export const KNOWN_FLAGS_MASK = 0x03;
const MAX_TYPE = MessageType.Canceled;

export interface DecodeHeaderOptions {
  /** Largest accepted payload size in bytes; default DEFAULT_MAX_PAYLOAD (50 000 000, libqi 2.5). */
  maxPayload?: number;
  /**
   * Reject flag bits outside DynamicPayload|ReturnType (ERR_BAD_FLAGS). Default false: libqi
   * ignores unknown flag bits (spec §1.4, bits 2–7 "unused; libqi ignores them"), so a conforming
   * peer may set them and must not be disconnected for it. Enable for conformance testing.
   */
  strictFlags?: boolean;
  /** Alias of `strictFlags` (kept for callers that pass `{ strict: true }`). */
  strict?: boolean;
}

// ------------------------------------------------------------------------------------------------
// Message ids (spec §1.5)

let lastMessageId = 0;

/**
 * A fresh message id from the process-wide counter: pre-incremented from 0 (first id = 1), wraps
 * from 0xFFFFFFFF to 1, never returns 0. Like libqi, one counter serves every connection.
 */
export function nextMessageId(): number {
  lastMessageId = lastMessageId >= 0xffffffff ? 1 : lastMessageId + 1;
  return lastMessageId;
}

/** Test hook: set the counter so that the next id is `last + 1` (or 1 after 0xFFFFFFFF). */
export function setMessageIdCounter(last: number): void {
  if (!Number.isInteger(last) || last < 0 || last > 0xffffffff) {
    throw new RangeError(`message id counter out of range: ${last}`);
  }
  lastMessageId = last;
}

// ------------------------------------------------------------------------------------------------
// Encoding

function checkUint(value: number, max: number, field: string): number {
  // Integer in [0, max]; rejects NaN, fractions, negatives and undefined.
  if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
    throw new WireError("ERR_VALUE_MISMATCH", `header field ${field} out of range: ${value}`);
  }
  return value;
}

function writeU32(target: Uint8Array, o: number, v: number): void {
  target[o] = v;
  target[o + 1] = v >>> 8;
  target[o + 2] = v >>> 16;
  target[o + 3] = v >>> 24;
}

/**
 * Write the 28 header bytes of `h` with payload length `payloadSize` into `target` at `offset`.
 * `h.size` is ignored (the payload size is authoritative); `h.version` defaults to 0. Fields are
 * range-checked (u32/u16/u8) but not interpreted: any type/flags byte can be encoded.
 */
export function encodeHeader(h: MessageHeader, payloadSize: number, target: Uint8Array, offset = 0): void {
  if (!(offset >= 0 && offset + HEADER_SIZE <= target.length)) {
    throw new RangeError(`encodeHeader: no room for ${HEADER_SIZE} bytes at offset ${offset}`);
  }
  const id = checkUint(h.id, 0xffffffff, "id");
  const size = checkUint(payloadSize, 0xffffffff, "size");
  const version = checkUint(h.version ?? 0, 0xffff, "version");
  const type = checkUint(h.type, 0xff, "type");
  const flags = checkUint(h.flags, 0xff, "flags");
  const service = checkUint(h.service, 0xffffffff, "service");
  const object = checkUint(h.object, 0xffffffff, "object");
  const action = checkUint(h.action, 0xffffffff, "action");
  target[offset] = M0;
  target[offset + 1] = M1;
  target[offset + 2] = M2;
  target[offset + 3] = M3;
  writeU32(target, offset + 4, id);
  writeU32(target, offset + 8, size);
  target[offset + 12] = version;
  target[offset + 13] = version >>> 8;
  target[offset + 14] = type;
  target[offset + 15] = flags;
  writeU32(target, offset + 16, service);
  writeU32(target, offset + 20, object);
  writeU32(target, offset + 24, action);
}

/** The 28 header bytes of `msg` (size = msg.payload.byteLength), for a gather write with the payload. */
export function headerBytes(msg: Message): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  encodeHeader(msg, msg.payload.byteLength, out, 0);
  return out;
}

/** Header and payload of `msg` in one newly allocated buffer. */
export function encodeMessage(msg: Message): Uint8Array {
  const payload = msg.payload;
  const out = new Uint8Array(HEADER_SIZE + payload.byteLength);
  encodeHeader(msg, payload.byteLength, out, 0);
  out.set(payload, HEADER_SIZE);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Decoding

/** A decoded header with every field present (what decodeHeader returns). */
export interface DecodedHeader extends MessageHeader {
  size: number;
  version: number;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/**
 * Validate the header fields at `b[o..o+28)` (the caller guarantees 28 bytes are there) and return
 * the payload size. Error offsets are `base + <field offset>`: `base` lets the framer report
 * positions in the whole stream rather than in its scratch buffer.
 * @internal shared with the framer, which reads the remaining fields itself.
 */
export function validateHeaderAt(
  b: Uint8Array,
  o: number,
  maxPayload: number,
  strictFlags: boolean,
  base: number,
): number {
  if (b[o] !== M0 || b[o + 1] !== M1 || b[o + 2] !== M2 || b[o + 3] !== M3) {
    throw new WireError(
      "ERR_BAD_MAGIC",
      `bad magic ${hex(b, o, 4)}, expected 42 de ad 42 (no resynchronisation possible)`,
      base,
    );
  }
  const version = b[o + 12] | (b[o + 13] << 8);
  if (version !== 0) {
    throw new WireError("ERR_BAD_VERSION", `unsupported header version ${version}`, base + 12);
  }
  const type = b[o + 14];
  if (type < 1 || type > MAX_TYPE) {
    throw new WireError("ERR_BAD_TYPE", `bad message type ${type}`, base + 14);
  }
  if (strictFlags) {
    const flags = b[o + 15];
    if ((flags & ~KNOWN_FLAGS_MASK) !== 0) {
      throw new WireError("ERR_BAD_FLAGS", `unknown flag bits 0x${flags.toString(16)}`, base + 15);
    }
  }
  const size = readU32(b, o + 8);
  if (size > maxPayload) {
    throw new WireError(
      "ERR_PAYLOAD_TOO_LARGE",
      `payload of ${size} bytes exceeds the limit of ${maxPayload}`,
      base + 8,
    );
  }
  return size;
}

/** @internal Build the Message object for an already validated header at `b[o]`. */
export function messageAt(b: Uint8Array, o: number, size: number, payload: Uint8Array): Message {
  // Always the same property order so every message shares one hidden class.
  return {
    id: readU32(b, o + 4),
    size,
    version: 0,
    type: b[o + 14] as MessageType,
    flags: b[o + 15],
    service: readU32(b, o + 16),
    object: readU32(b, o + 20),
    action: readU32(b, o + 24),
    payload,
  };
}

/**
 * Decode and validate the header at `bytes[offset..offset+28)`.
 *
 * Checks, in this order: enough bytes (ERR_TRUNCATED, offset = bytes.length), magic 42 DE AD 42
 * (ERR_BAD_MAGIC, offset of the header), version 0 (ERR_BAD_VERSION, +12), type 1..8
 * (ERR_BAD_TYPE, +14), flags ⊆ 0x03 only with `strictFlags` (ERR_BAD_FLAGS, +15), size ≤
 * maxPayload (ERR_PAYLOAD_TOO_LARGE, +8). Offsets are absolute positions in `bytes`.
 */
export function decodeHeader(bytes: Uint8Array, offset = 0, opts: DecodeHeaderOptions = {}): DecodedHeader {
  if (!(offset >= 0 && Math.floor(offset) === offset)) {
    throw new RangeError(`decodeHeader: bad offset ${offset}`);
  }
  if (bytes.length - offset < HEADER_SIZE) {
    throw new WireError(
      "ERR_TRUNCATED",
      `header needs ${HEADER_SIZE} bytes, only ${Math.max(0, bytes.length - offset)} available`,
      bytes.length,
    );
  }
  const size = validateHeaderAt(
    bytes,
    offset,
    opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    opts.strictFlags ?? opts.strict ?? false,
    offset,
  );
  return {
    id: readU32(bytes, offset + 4),
    size,
    version: 0,
    type: bytes[offset + 14] as MessageType,
    flags: bytes[offset + 15],
    service: readU32(bytes, offset + 16),
    object: readU32(bytes, offset + 20),
    action: readU32(bytes, offset + 24),
  };
}

function hex(b: Uint8Array, o: number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? " " : "") + (b[o + i] ?? 0).toString(16).padStart(2, "0");
  return s;
}

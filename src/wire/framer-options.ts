/** The options of a Framer (framer.ts): limits, allocation, and the pull-mode read buffers. */
export interface FramerOptions {
  /** Largest accepted payload in bytes (ERR_PAYLOAD_TOO_LARGE above it). Default DEFAULT_MAX_PAYLOAD. */
  maxPayload?: number;
  /** Reject unknown flag bits (see DecodeHeaderOptions.strictFlags). Default false, as libqi. */
  strictFlags?: boolean;
  /**
   * Allocates the buffer of a payload that spans chunks; must return exactly `size` bytes.
   * Default `new Uint8Array(size)`. Every byte is overwritten before the message is delivered
   * (a partly filled buffer is never exposed), so Node transports should pass
   * `(n) => Buffer.allocUnsafeSlow(n)`: it skips the zero-fill and its page faults, which cost
   * more than the copy itself for large payloads (≈200 µs vs ≈20 µs per MiB). Not
   * `Buffer.allocUnsafe`: its pool would make small payloads share an ArrayBuffer.
   */
  allocate?: (size: number) => Uint8Array;
  /** Size of the fresh buffers handed out by readBuffer() between payloads. Default 64 KiB. */
  readBufferSize?: number;
  /**
   * readBuffer() hands out the unfilled rest of a pending payload itself (so the socket writes
   * straight into it) when at least this many payload bytes are missing. Default 16 KiB: below,
   * the extra read call per message costs more than copying the tail.
   */
  directReadMin?: number;
  /**
   * Push mode: a payload larger than this is not allocated when its header arrives, but once
   * all its bytes have (the chunks are kept until then, and copied once), so a 28-byte header
   * announcing 50 MB makes the framer hold 28 bytes, not 50 MB. Default 256 KiB; pull mode
   * (readBuffer) allocates the payload up front, to read into it.
   */
  lazyPayloadMin?: number;
  /**
   * Pull mode: a payload up to this size gets its buffer when its header arrives, so the socket
   * reads the rest straight into it; a larger one once half of it has arrived (a header alone
   * never makes the framer hold more than this, or twice what the peer really sent). Default 4 MiB.
   */
  eagerPayloadMax?: number;
  /**
   * Pull mode: the buffer readBuffer() hands out between payloads, shared by every framer of a
   * process instead of a fresh one per read (which an idle connection would hold while it
   * waits). Its bytes are copied out on commitRead (into one buffer of exactly the bytes read),
   * so it must not be written by anyone else between readBuffer() and commitRead(): one
   * thread's sockets, whose reads are each consumed before the next, can share it.
   */
  sharedReadBuffer?: Uint8Array;
}

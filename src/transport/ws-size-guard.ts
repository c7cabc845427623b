/**
 * Reads the RFC 6455 frame headers of the raw bytes a WebSocket peer sends, to refuse a
 * message as soon as its header announces more than the current limit. The `ws` library
 * checks one maxPayload fixed per server and buffers a message whole before handing it over,
 * so an unauthenticated peer could make the server hold the post-authentication limit (50 MB)
 * per connection; this guard runs beside it while the limit is lower and costs a few header
 * bytes per frame, nothing per payload byte.
 *
 * Only lengths are read here: everything else (masking, opcodes, UTF-8, control frames) is the
 * `ws` library's job. No Node APIs.
 */

/** The longest frame header: 2 bytes, 8 bytes of extended length, a 4-byte mask. */
const MAX_HEADER = 14;
const TWO_POW_32 = 2 ** 32;

export class WsSizeGuard {
  /** Largest WebSocket message (sum of its fragments' payloads) accepted, in bytes. */
  limit: number;
  private readonly header = new Uint8Array(MAX_HEADER);
  private headerFill = 0;
  /** Payload bytes of the current frame still to skip. */
  private payloadLeft = 0;
  /** Payload bytes of the data message being received (fragments so far). */
  private messageBytes = 0;
  private tripped = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** The announced size of the message that went over the limit (0 while none did). */
  refusedSize = 0;

  /**
   * Feeds the next bytes from the peer. Returns false once a header announced a message over
   * the limit (and from then on): the caller closes the connection without reading further.
   */
  push(chunk: Uint8Array): boolean {
    if (this.tripped) return false;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.payloadLeft > 0) {
        const skip = Math.min(this.payloadLeft, n - i);
        this.payloadLeft -= skip;
        i += skip;
        continue;
      }
      this.header[this.headerFill++] = chunk[i++];
      const need = this.headerLength();
      if (this.headerFill < need) continue;
      if (!this.frameDone()) return false;
    }
    return true;
  }

  /** Bytes of the header being read, as far as its first two bytes tell (2 until they came). */
  private headerLength(): number {
    if (this.headerFill < 2) return 2;
    const len7 = this.header[1] & 0x7f;
    const masked = (this.header[1] & 0x80) !== 0 ? 4 : 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + masked;
  }

  /** A whole header is in: checks the message size and starts skipping the payload. */
  private frameDone(): boolean {
    const h = this.header;
    const fin = (h[0] & 0x80) !== 0;
    const opcode = h[0] & 0x0f;
    const len7 = h[1] & 0x7f;
    let length: number;
    if (len7 === 126) length = (h[2] << 8) | h[3];
    else if (len7 === 127) length = uint32At(h, 2) * TWO_POW_32 + uint32At(h, 6);
    else length = len7;
    this.headerFill = 0;
    this.payloadLeft = length;
    if (opcode >= 0x8) return true; // control frames: at most 125 bytes, checked by `ws`
    const total = (opcode === 0 ? this.messageBytes : 0) + length;
    if (total > this.limit) {
      this.tripped = true;
      this.refusedSize = total;
      return false;
    }
    this.messageBytes = fin ? 0 : total;
    return true;
  }
}

function uint32At(b: Uint8Array, at: number): number {
  return b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

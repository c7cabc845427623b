/**
 * The TCPROS connection header: a little-endian u32 total length, then `key=value` fields
 * each prefixed by its own u32 length. Used by the service server (topics go through
 * @foxglove/ros1, which has its own).
 */

export const MAX_HEADER_BYTES = 64 * 1024;

export function encodeHeader(fields: Record<string, string>): Buffer {
  const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`${k}=${v}`, "utf8"));
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = Buffer.allocUnsafe(4 + total);
  out.writeUInt32LE(total, 0);
  let at = 4;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** Fields of a header body (without its leading total length); throws on a malformed one. */
export function decodeHeader(body: Uint8Array): Map<string, string> {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const fields = new Map<string, string>();
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error("truncated header field length");
    const n = buf.readUInt32LE(at);
    at += 4;
    if (at + n > buf.length) throw new Error("header field longer than the header");
    const text = buf.toString("utf8", at, at + n);
    at += n;
    const eq = text.indexOf("=");
    if (eq <= 0) throw new Error(`header field without "=": ${text.slice(0, 40)}`);
    fields.set(text.slice(0, eq), text.slice(eq + 1));
  }
  return fields;
}

/**
 * Splits a stream into u32-length-prefixed frames, refusing any longer than `maxBytes` (a
 * hostile peer announcing 4 GB gets an error, not an allocation).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private maxBytes: number) {}

  setLimit(maxBytes: number): void {
    this.maxBytes = maxBytes;
  }

  /** Adds bytes; returns the complete frames now available. */
  push(chunk: Buffer): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const n = head.readUInt32LE(0);
      if (n > this.maxBytes) throw new Error(`frame of ${n} bytes is over the limit of ${this.maxBytes}`);
      if (this.buffered < 4 + n) break;
      const all = this.take(4 + n);
      frames.push(all.subarray(4));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = joined.length > n ? [joined.subarray(n)] : [];
    this.buffered -= n;
    return joined.subarray(0, n);
  }
}

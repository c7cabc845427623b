/**
 * The camera's `(iiIr)` frame (width, height, sequence, RGB bytes: the demo's and the bridges'
 * convention) as `foxglove_msgs/RawImage` in ROS 1 serialization — foxglove.RawImage's fields,
 * so Foxglove's Image panel shows it. The pixels stay bytes after a small header (never
 * base64, which would cost a third more and a pass over every frame). The frame's sequence
 * number travels in the MCAP message record's own `sequence` field.
 */

export const RAW_IMAGE_SCHEMA_NAME = "foxglove_msgs/RawImage";
export const RAW_IMAGE_SCHEMA = [
  "time timestamp",
  "string frame_id",
  "uint32 width",
  "uint32 height",
  "string encoding",
  "uint32 step",
  "uint8[] data",
].join("\n");

const FRAME_ID = "camera";
const PIXEL_ENCODING = "rgb8";
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export interface RawImageFrame {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** One frame in ROS 1 serialization: little-endian, strings and arrays with a uint32 length. */
export function encodeRawImage(frame: RawImageFrame, timeNs: bigint): Uint8Array {
  const frameId = utf8.encode(FRAME_ID);
  const encoding = utf8.encode(PIXEL_ENCODING);
  const headLength = 8 + 4 + frameId.length + 8 + 4 + encoding.length + 4 + 4;
  const out = new Uint8Array(headLength + frame.pixels.byteLength);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint32(at, Number(timeNs / 1_000_000_000n) >>> 0, true);
  view.setUint32(at + 4, Number(timeNs % 1_000_000_000n), true);
  at += 8;
  view.setUint32(at, frameId.length, true);
  out.set(frameId, at + 4);
  at += 4 + frameId.length;
  view.setUint32(at, frame.width >>> 0, true);
  view.setUint32(at + 4, frame.height >>> 0, true);
  at += 8;
  view.setUint32(at, encoding.length, true);
  out.set(encoding, at + 4);
  at += 4 + encoding.length;
  view.setUint32(at, (frame.width * 3) >>> 0, true);
  view.setUint32(at + 4, frame.pixels.byteLength, true);
  out.set(frame.pixels, headLength);
  return out;
}

/** Reads a frame back; every length is checked against the message's own size. */
export function decodeRawImage(bytes: Uint8Array): RawImageFrame {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number, what: string) => {
    if (at + n > bytes.byteLength)
      throw new RangeError(
        `RawImage ${what} at byte ${at} needs ${n} bytes, the message has ${bytes.byteLength}`,
      );
  };
  const string = (what: string) => {
    need(4, what);
    const n = view.getUint32(at, true);
    at += 4;
    need(n, what);
    const s = utf8Decoder.decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  need(8, "timestamp");
  at = 8; // the timestamp: the message's log time says the same
  string("frame_id");
  need(8, "size");
  const width = view.getUint32(at, true);
  const height = view.getUint32(at + 4, true);
  at += 8;
  string("encoding");
  need(8, "step and data length");
  const length = view.getUint32(at + 4, true);
  at += 8;
  need(length, "data");
  return { width, height, pixels: bytes.subarray(at, at + length) };
}

/**
 * rosbridge's `png` compression: a message's JSON text as the pixels of a PNG picture, sent
 * base64 in a `{op: "png", data}` message. The text fills 8-bit RGB pixels row by row (padded
 * with "\n", which JSON ignores), so both readers roslib has had work: one that takes the
 * decoded pixel bytes as they are, and one that draws the picture on a canvas and reads the
 * red, green and blue of each pixel. The deflate does the compressing.
 */
import { crc32, deflateSync, inflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RGB = 2;
const PAD = 0x0a;

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.byteLength, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/** The PNG (RGB, 8 bits) whose pixel bytes are `text`'s UTF-8 then "\n" padding. */
export function textToPng(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const pixels = Math.max(1, Math.ceil(bytes.byteLength / 3));
  const width = Math.ceil(Math.sqrt(pixels));
  const height = Math.ceil(pixels / width);
  const stride = width * 3;
  // Each row: filter type 0 (none), then its pixels.
  const raw = Buffer.alloc((stride + 1) * height, PAD);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    bytes.copy(raw, y * (stride + 1) + 1, y * stride, Math.min(bytes.byteLength, (y + 1) * stride));
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = RGB;
  // compression 0, filter 0, no interlace
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/**
 * The text in a PNG written by textToPng (RGB, 8 bits, rows without a filter: only that layout
 * is read), for checking what the bridge sends the way a client unpacks it.
 */
export function pngToText(png: Uint8Array, maxBytes: number): string {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.byteLength < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG");
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at + 8 <= buf.byteLength) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== RGB) throw new Error("only 8-bit RGB PNG text is read");
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  const stride = width * 3;
  if (stride * height > maxBytes) throw new Error(`PNG text over ${maxBytes} bytes`);
  const raw = inflateSync(Buffer.concat(idat), { maxOutputLength: (stride + 1) * height });
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    if (raw[y * (stride + 1)] !== 0) throw new Error("only PNG rows without a filter are read");
    raw.copy(out, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return out.toString("utf8").replace(/\n+$/, "");
}

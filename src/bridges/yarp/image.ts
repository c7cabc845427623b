/**
 * A camera frame as a yarp::sig::Image on the wire (ImageNetworkHeader): the list
 * `[mat] [rgb] (depth imgSize quantum width height) {pixels}` written as fifteen int32 header
 * words followed by the pixel bytes, so `yarp read` and YARP image readers take it as an image.
 * The pixels are passed by reference, never copied.
 */
import { TAG, Vocab } from "./bottle.js";

const RGB = Vocab.of("rgb").code;
const MAT = Vocab.of("mat").code;

/** The encoded image as chunks (header, pixels), or undefined when `rgb` is not width×height×3. */
export function encodeRgbImage(width: number, height: number, rgb: Uint8Array): Uint8Array[] | undefined {
  const size = width * height * 3;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width <= 0 ||
    height <= 0 ||
    rgb.length !== size
  )
    return undefined;
  // Rows are padded to the quantum; 8 when that adds no padding, else 1 (no padding at all).
  const quantum = (width * 3) % 8 === 0 ? 8 : 1;
  const words = [
    TAG.LIST,
    4,
    TAG.VOCAB32,
    MAT,
    TAG.VOCAB32,
    RGB,
    TAG.LIST + TAG.INT32,
    5,
    3,
    size,
    quantum,
    width,
    height,
    TAG.BLOB,
    size,
  ];
  const header = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => {
    header.writeInt32LE(w | 0, 4 * i);
  });
  return [header, rgb];
}

/** A signal's arguments as an RGB frame when they look like one: (width, height, …, bytes). */
export function frameOf(
  args: readonly unknown[],
): { width: number; height: number; rgb: Uint8Array } | undefined {
  const [width, height] = args;
  const last = args[args.length - 1] as { bytes?: unknown } | undefined;
  if (typeof width !== "number" || typeof height !== "number") return undefined;
  if (!last || !(last.bytes instanceof Uint8Array)) return undefined;
  return { width, height, rgb: last.bytes };
}

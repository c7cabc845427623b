/**
 * A message for one client in the encoding it asked for: `none` → JSON text (cut into
 * `fragment` messages beyond `fragment_size`), `cbor` → one CBOR binary frame whose byte
 * arrays stay bytes (a camera frame is its 921,600 bytes plus a few dozen, never base64).
 * `png` and `cbor-raw` are answered with a warning and served as `none` / `cbor`: `png`
 * squeezes JSON text into a PNG picture (no gain over CBOR for the binary data that matters
 * here) and `cbor-raw` needs ROS 1 serialization of every mapped type.
 */
import { encodeCborPieces } from "./cbor-out.js";
import { encodeJson, type RosbridgeMessage } from "./frames.js";
import { splitIntoFragments } from "./fragments.js";
import type { Frames } from "./outbox.js";

export type Compression = "none" | "cbor";

export const COMPRESSIONS = ["none", "cbor", "cbor-raw", "png"] as const;

/** The encoding served for what a client asked, and a warning when it differs. */
export function chooseCompression(asked: unknown): { compression: Compression; warning?: string } {
  if (asked === undefined || asked === null || asked === "none") return { compression: "none" };
  if (asked === "cbor") return { compression: "cbor" };
  if (asked === "cbor-raw")
    return { compression: "cbor", warning: 'compression "cbor-raw" is served as "cbor"' };
  if (asked === "png") return { compression: "none", warning: 'compression "png" is served as "none"' };
  return { compression: "none", warning: `unknown compression ${JSON.stringify(asked)}, using "none"` };
}

export function isBinary(c: Compression): boolean {
  return c === "cbor";
}

export function encodeFor(msg: RosbridgeMessage, compression: Compression, fragmentSize: number): Frames {
  if (compression === "cbor") return [encodeCborPieces(msg)];
  const text = encodeJson(msg);
  if (fragmentSize > 0 && text.length > fragmentSize)
    return splitIntoFragments(text, fragmentSize).map(encodeJson);
  return [text];
}

/**
 * A message for one client in the encoding it asked for:
 * - `none` → JSON text (cut into `fragment` messages beyond `fragment_size`);
 * - `cbor` → one CBOR binary message whose byte arrays stay bytes (a camera frame is its
 *   921,600 bytes plus a few dozen, never base64, and never copied: see cbor-out.ts);
 * - `cbor-raw` → CBOR too; a published message is then `{secs, nsecs, bytes}` with the ROS 1
 *   serialization of the message in `bytes` (built by the subscription, see raw-message);
 * - `png` → the JSON text packed into a PNG picture, sent base64 as `{op: "png", data}`, and
 *   that text fragmented like any other beyond `fragment_size`.
 */
import { encodeCborPieces } from "./cbor-out.js";
import { splitIntoFragments } from "./fragments.js";
import { encodeJson, type RosbridgeMessage } from "./frames.js";
import type { Frames } from "./outbox.js";
import { textToPng } from "./png.js";

export const COMPRESSIONS = ["none", "cbor", "cbor-raw", "png"] as const;

export type Compression = (typeof COMPRESSIONS)[number];

/** The encoding served for what a client asked, and a warning when it differs. */
export function chooseCompression(asked: unknown): { compression: Compression; warning?: string } {
  if (asked === undefined || asked === null) return { compression: "none" };
  if ((COMPRESSIONS as readonly unknown[]).includes(asked)) return { compression: asked as Compression };
  return { compression: "none", warning: `unknown compression ${JSON.stringify(asked)}, using "none"` };
}

/** Whether byte fields stay bytes (the binary encodings) or become base64 text. */
export function isBinary(c: Compression): boolean {
  return c === "cbor" || c === "cbor-raw";
}

export function encodeFor(msg: RosbridgeMessage, compression: Compression, fragmentSize: number): Frames {
  if (isBinary(compression)) return [encodeCborPieces(msg)];
  let text = encodeJson(msg);
  if (compression === "png") text = encodeJson({ op: "png", data: textToPng(text).toString("base64") });
  if (fragmentSize > 0 && text.length > fragmentSize)
    return splitIntoFragments(text, fragmentSize).map(encodeJson);
  return [text];
}

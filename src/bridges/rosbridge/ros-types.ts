/**
 * qi values ↔ ROS messages as rosbridge's JSON/CBOR shows them (plain objects: what rosbridge
 * puts in `msg` and Foxglove in a JSON channel), typed by the shared mapping's table
 * (src/bridges/mapping/): one scalar becomes the matching std_msgs wrapper (`{data}`), the
 * camera's `(iiIr)` frame a sensor_msgs/Image, anything else a std_msgs/String of JSON text.
 * rosbridge writes ROS 1 times as `{secs, nsecs}`, so messages are built here rather than by
 * the ROS 1 serializer's `toMessage`.
 *
 * Bytes (a `r`, an image's pixels) stay a Uint8Array when the client reads binary (CBOR) and
 * become base64 text for JSON clients: that is what rosbridge does with `uint8[]`.
 */
import { argsFromJson, fromJson, parseSignature, Raw, type SigNode, toJson } from "../../wire/index.js";
import { mappingForSignature, STRING_TYPE } from "../mapping/index.js";

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export const IMAGE_SIGNATURE = "(iiIr)";
export const JSON_TYPE = STRING_TYPE;

/** The one member of a one-element tuple, else the signature itself. */
function single(sig: string): SigNode {
  const node = parseSignature(sig);
  return node.kind === "tuple" && node.members.length === 1 ? node.members[0]! : node;
}

/** The shared mapping's type for a signature (std_msgs/Empty for no value, which it does not list). */
export function toRosType(signature: string): string {
  const node = single(signature);
  if (node.kind === "tuple" && node.members.length === 0) return "std_msgs/Empty";
  return mappingForSignature(signature).type;
}

/** A qi value as rosbridge/JSON sees it: bytes as bytes (binary) or base64 text, the rest toJson. */
export function rosValue(value: unknown, binary: boolean): unknown {
  if (value instanceof Raw || value instanceof Uint8Array) {
    const bytes = value instanceof Raw ? value.bytes : value;
    return binary ? bytes : bytesToBase64(bytes);
  }
  if (Array.isArray(value)) return value.map((v) => rosValue(v, binary));
  return toJson(value);
}

let imageSeq = 0;

/**
 * The ROS message for one qi event: `args` are the signal's arguments (a property's one value).
 * The camera frame keeps its pixel buffer by reference (no copy) for binary clients.
 */
export function messageFromQi(
  signature: string,
  args: readonly unknown[],
  binary: boolean,
): Record<string, unknown> {
  if (signature === IMAGE_SIGNATURE) {
    const [width, height, sequence, pixels] = args as [number, number, number | bigint, Raw];
    const now = Date.now();
    return {
      header: {
        seq: Number(sequence ?? imageSeq++),
        stamp: { secs: Math.floor(now / 1000), nsecs: (now % 1000) * 1e6 },
        frame_id: "camera",
      },
      height,
      width,
      encoding: "rgb8",
      is_bigendian: 0,
      step: width * 3,
      data: rosValue(pixels, binary),
    };
  }
  const type = toRosType(signature);
  if (type === "std_msgs/Empty") return {};
  const value = args.length === 1 ? args[0] : [...args];
  if (type === JSON_TYPE && single(signature).kind !== "scalar")
    return { data: JSON.stringify(toJson(value)) };
  return { data: rosValue(value, binary) };
}

/** A ROS message published by a client → the qi arguments of `signature` (a method's parameters, a property's type). */
export function argsFromMessage(signature: string, msg: unknown): unknown[] {
  const node = parseSignature(signature);
  const members = node.kind === "tuple" ? node.members : [node];
  if (members.length === 0) return [];
  const data = typeof msg === "object" && msg !== null ? (msg as { data?: unknown }).data : undefined;
  const type = toRosType(signature);
  if (type === JSON_TYPE && single(signature).kind !== "scalar") {
    if (typeof data !== "string") throw new Error(`expected {data: "<JSON text>"} for ${signature}`);
    const value = JSON.parse(data) as unknown;
    return members.length === 1
      ? [fromJson(value, members[0]!)]
      : argsFromJson(value as unknown[], signature);
  }
  if (members.length !== 1) throw new Error(`cannot publish a ${type} to ${signature}`);
  return [fromJson(bytesAsJson(data), members[0]!)];
}

/** Service request fields → positional qi arguments: by parameter name, `data` for one parameter, or in order. */
export function argsFromRequest(
  parametersSignature: string,
  names: readonly string[],
  args: unknown,
): unknown[] {
  if (Array.isArray(args)) return argsFromJson(args.map(bytesAsJson), parametersSignature);
  const fields = typeof args === "object" && args !== null ? (args as Record<string, unknown>) : {};
  const keys = Object.keys(fields);
  let values: unknown[];
  if (names.length > 0 && names.every((n) => Object.hasOwn(fields, n))) values = names.map((n) => fields[n]);
  else values = keys.map((k) => fields[k]);
  return argsFromJson(values.map(bytesAsJson), parametersSignature);
}

/** CBOR clients may send bytes as bytes: the JSON converter takes them as "base64:…". */
function bytesAsJson(value: unknown): unknown {
  return value instanceof Uint8Array ? `base64:${bytesToBase64(value)}` : value;
}

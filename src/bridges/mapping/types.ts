/**
 * Which standard message type carries a qi value, and how the value becomes a message: the
 * table the ROS 1 bridge (and later rosbridge / Foxglove) share. Messages are plain objects
 * with the standard field names, so any serializer of that framework can write them.
 *
 * - no value (a `()` signal, a method without parameters) → `std_msgs/Empty`, `{}`;
 * - one number, bool or string → `std_msgs/<Type>` with `data`;
 * - a camera frame `(i,i,I,r)` (width, height, sequence, bytes, as ALVideoDevice's `image`)
 *   → `sensor_msgs/Image`, encoding `rgb8`;
 * - anything else → `std_msgs/String` holding the value as JSON (documented fallback).
 */
import { parseSignature, Raw, type SigNode } from "../../wire/index.js";
import { argsToJsonText } from "./json.js";

export interface MessageMapping {
  /** The message type, e.g. `std_msgs/Float32`. */
  readonly type: string;
  /** A signal's arguments (or `[value]` of a property) as a message of `type`. */
  toMessage(args: readonly unknown[]): Record<string, unknown>;
}

const SCALAR_TYPES: Record<string, string> = {
  b: "std_msgs/Bool",
  c: "std_msgs/Int8",
  C: "std_msgs/UInt8",
  w: "std_msgs/Int16",
  W: "std_msgs/UInt16",
  i: "std_msgs/Int32",
  I: "std_msgs/UInt32",
  l: "std_msgs/Int64",
  L: "std_msgs/UInt64",
  f: "std_msgs/Float32",
  d: "std_msgs/Float64",
  s: "std_msgs/String",
};

export const STRING_TYPE = "std_msgs/String";
export const IMAGE_TYPE = "sensor_msgs/Image";
export const EMPTY_TYPE = "std_msgs/Empty";

/**
 * How a message spells a ROS 1 time. The serializers (@foxglove/rosmsg-serialization, so the
 * ROS 1 wire and cbor-raw) read `{sec, nsec}`; rosbridge's JSON (and its CBOR) write
 * `{secs, nsecs}`, as rospy's genpy fields are named. Each bridge says which it wants.
 */
export type TimeFields = "sec" | "secs";

export interface MappingOptions {
  /** Default `sec` (for a serializer). */
  time?: TimeFields;
}

/** A time in milliseconds since the epoch as a ROS time in the asked spelling: the one place that converts. */
export function rosTime(ms: number, fields: TimeFields = "sec"): Record<string, number> {
  const sec = Math.floor(ms / 1000);
  const nsec = Math.round((ms - sec * 1000) * 1e6);
  return fields === "secs" ? { secs: sec, nsecs: nsec } : { sec, nsec };
}

/** std_msgs/Empty: for signatures with no value. */
export const EMPTY: MessageMapping = { type: EMPTY_TYPE, toMessage: () => ({}) };

/**
 * The service type a bridge gives a qi method the mapping does not name: one generic type
 * whose request fields are the method's parameters by name (`data` stands for a lone
 * parameter without a name) and whose response is `{result}` (`{}` for a method returning
 * nothing, the shape of std_srvs/Empty's response).
 */
export const METHOD_SERVICE_TYPE = "qi_srvs/Call";

/** A std_msgs/String with JSON of the value: for every signature without a standard type. */
export const JSON_STRING: MessageMapping = {
  type: STRING_TYPE,
  toMessage: (args) => ({
    data: typeof args[0] === "string" && args.length === 1 ? args[0] : argsToJsonText(args),
  }),
};

/** The members of a signal's (or a property's) signature, as a list. */
function members(signature: string): SigNode[] {
  const node = parseSignature(signature);
  return node.kind === "tuple" ? [...node.members] : [node];
}

function scalarCodes(signature: string): string[] | undefined {
  try {
    const list = members(signature);
    return list.every((m) => m.kind === "scalar") ? list.map((m) => (m as { code: string }).code) : undefined;
  } catch {
    return undefined;
  }
}

/** The standard type for a qi signature (a signal's `(…)` or a property's bare type). */
export function mappingForSignature(signature: string, options: MappingOptions = {}): MessageMapping {
  const codes = scalarCodes(signature);
  if (codes?.length === 0) return EMPTY;
  if (codes?.length === 1 && SCALAR_TYPES[codes[0]]) return scalarMapping(codes[0]);
  if (codes?.join("") === "iiIr") return cameraImage(options.time ?? "sec");
  return JSON_STRING;
}

/** The mapping for a type the user named: the signature's own when it is that type, else JSON text. */
export function mappingForType(
  type: string,
  signature: string,
  options: MappingOptions = {},
): MessageMapping {
  const natural = mappingForSignature(signature, options);
  if (natural.type === type) return natural;
  if (type === STRING_TYPE) return JSON_STRING;
  throw new Error(
    `no conversion from qi signature ${signature} to ${type} (use ${natural.type} or ${STRING_TYPE})`,
  );
}

function scalarMapping(code: string): MessageMapping {
  const type = SCALAR_TYPES[code];
  if (code === "s") return JSON_STRING;
  // 64-bit integers are written from bigint by the serializer.
  const wide = code === "l" || code === "L";
  return {
    type,
    toMessage: ([value]) => ({ data: wide ? BigInt(value as number | bigint) : value }),
  };
}

/** Frame sequence numbers restart per stream; ROS wants a header stamp: the time we sent it. */
function cameraImage(time: TimeFields): MessageMapping {
  return {
    type: IMAGE_TYPE,
    toMessage: ([width, height, sequence, raw]) => {
      // The pixels by reference: no copy of the frame on the way to the serializer or socket.
      const data = raw instanceof Raw ? raw.bytes : (raw as Uint8Array);
      const w = Number(width);
      return {
        header: {
          seq: Number(sequence),
          stamp: rosTime(Date.now(), time),
          frame_id: "camera",
        },
        height: Number(height),
        width: w,
        encoding: "rgb8",
        is_bigendian: 0,
        step: w * 3,
        data,
      };
    },
  };
}

/** One value out of a received message by a dotted path (`linear.x`), for calling qi methods. */
export function fieldAt(message: unknown, path: string): unknown {
  let value: unknown = message;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || !(key in value))
      throw new Error(`message has no field "${path}"`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * qi values ↔ ROS messages as the web bridges show them (plain objects: rosbridge's `msg`, a
 * Foxglove JSON channel), built by this module's table with times spelled `{secs, nsecs}`.
 * Bytes (an `r`, an image's pixels) stay a Uint8Array for a client that reads binary (CBOR)
 * and become base64 text for JSON clients, as rosbridge does with `uint8[]`.
 */
import { argsFromJson, fromJson, parseSignature, Raw, type SigNode, toJson } from "../../wire/index.js";
import type { ServiceMapping } from "./config.js";
import { argsToJsonText } from "./json.js";
import { fieldAt, JSON_STRING, mappingForSignature } from "./types.js";

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** The ROS type of a qi signature, as the web bridges name it (the table's type). */
export function rosTypeOf(signature: string): string {
  return mappingForSignature(signature).type;
}

/** Whether `signature` travels as JSON text in a std_msgs/String (no standard type fits it). */
function isJsonText(signature: string): boolean {
  return mappingForSignature(signature) === JSON_STRING && !isOneScalar(signature);
}

function isOneScalar(signature: string): boolean {
  const node = parseSignature(signature);
  const one = node.kind === "tuple" && node.members.length === 1 ? node.members[0]! : node;
  return one.kind === "scalar";
}

/** A qi value as a web client sees it: bytes as bytes (binary) or base64 text, the rest toJson. */
export function rosValue(value: unknown, binary: boolean): unknown {
  if (value instanceof Raw || value instanceof Uint8Array) {
    const bytes = value instanceof Raw ? value.bytes : value;
    return binary ? bytes : bytesToBase64(bytes);
  }
  if (Array.isArray(value)) return value.map((v) => rosValue(v, binary));
  return toJson(value);
}

/** A built message's byte fields as base64 text, for a JSON client (messages are shallow records). */
function bytesAsBase64(msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg))
    out[k] = v instanceof Uint8Array ? bytesToBase64(v) : typeof v === "bigint" ? Number(v) : v;
  return out;
}

/**
 * The ROS message for one qi event: `args` are the signal's arguments (a property's one value).
 * A camera frame keeps its pixel buffer by reference (no copy) for binary clients.
 */
export function messageFromQi(
  signature: string,
  args: readonly unknown[],
  binary: boolean,
): Record<string, unknown> {
  const msg = mappingForSignature(signature, { time: "secs" }).toMessage(args);
  if (!isJsonText(signature) && "data" in msg && !(msg.data instanceof Uint8Array))
    return { ...msg, data: rosValue(args.length === 1 ? args[0] : [...args], binary) };
  return binary ? msg : bytesAsBase64(msg);
}

/**
 * A ROS message published by a client → the qi arguments of `signature` (a method's
 * parameters, a property's type): the fields the mapping's `args` name, else `data`.
 */
export function argsFromMessage(signature: string, msg: unknown, argPaths?: readonly string[]): unknown[] {
  if (argPaths && !(argPaths.length === 1 && argPaths[0] === "data"))
    return argsFromJson(
      argPaths.map((p) => bytesAsJson(fieldAt(msg, p))),
      signature,
    );
  const node = parseSignature(signature);
  const members: readonly SigNode[] = node.kind === "tuple" ? node.members : [node];
  if (members.length === 0) return [];
  const data = typeof msg === "object" && msg !== null ? (msg as { data?: unknown }).data : undefined;
  if (isJsonText(signature)) {
    if (typeof data !== "string") throw new Error(`expected {data: "<JSON text>"} for ${signature}`);
    const value = JSON.parse(data) as unknown;
    return members.length === 1
      ? [fromJson(value, members[0]!)]
      : argsFromJson(value as unknown[], signature);
  }
  if (members.length !== 1) throw new Error(`cannot publish a ${rosTypeOf(signature)} to ${signature}`);
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

/** How a service type answers: std_srvs/Empty with nothing, success/message types with those, others `{result}`. */
export type ReplyShape = "empty" | "success-message" | "result";

export function replyShape(entry: Pick<ServiceMapping, "type" | "response">): ReplyShape {
  if (entry.type === "std_srvs/Empty") return "empty";
  const text = entry.response ?? "";
  if (
    entry.type === "std_srvs/Trigger" ||
    entry.type === "std_srvs/SetBool" ||
    (/^bool success$/m.test(text) && /^string message$/m.test(text))
  )
    return "success-message";
  return "result";
}

/**
 * A service response for a qi call's outcome, as the ROS 1 bridge answers the same types:
 * success/message types carry a failure in their fields (the call itself succeeds), others
 * fail with the qi error text; `{result}` is absent for a method returning nothing.
 */
export function serviceReply(
  shape: ReplyShape,
  returnSignature: string,
  outcome: { ok: true; value: unknown } | { ok: false; error: string },
  binary: boolean,
): { result: boolean; values: unknown } {
  if (shape === "success-message")
    return outcome.ok
      ? { result: true, values: { success: true, message: resultText(outcome.value) } }
      : { result: true, values: { success: false, message: outcome.error } };
  if (!outcome.ok) return { result: false, values: outcome.error };
  if (shape === "empty" || returnSignature === "v") return { result: true, values: {} };
  return { result: true, values: { result: rosValue(outcome.value, binary) } };
}

function resultText(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : argsToJsonText([value]);
}

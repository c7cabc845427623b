/**
 * One qi member ↔ one MCAP channel: its topic, schema and encoding, and how an event becomes
 * a message and back. Shared by `qi record`, `qi play` and the console's record button, so it
 * imports no Node module (the console bundle uses it too).
 *
 * - signals: JSON `{"args": [...]}` with a JSON schema of the signature's members;
 * - properties: JSON `{"value": v}` (the value at the start, then each change);
 * - calls of a service (--calls): JSON `{"id", "kind": "call"|"result"|"error", "method", "value"}`;
 * - the camera's `(iiIr)` signal: `foxglove_msgs/RawImage` in ROS 1 encoding (raw-image.ts).
 * Values are wire's toJson forms (raw bytes `{"base64": …}`), which wire's fromJson takes back
 * by the signature recorded in the channel's metadata (`qi.signature`).
 */
import { argsFromJson, fromJson, Raw, tidyFloats, toJson } from "../wire/index.js";
import { tupleMembers, valueSchema } from "./json-schema.js";
import { decodeRawImage, encodeRawImage, RAW_IMAGE_SCHEMA, RAW_IMAGE_SCHEMA_NAME } from "./raw-image.js";

export type MemberKind = "signal" | "property" | "calls";

/** What a channel records: one signal or property of a service, or the calls of a service. */
export interface QiMember {
  service: string;
  /** The signal or property name; for calls, "calls". */
  member: string;
  kind: MemberKind;
  /** Signals: the parameter tuple (`(iiIr)`); properties: the value's (`f`); calls: "". */
  signature: string;
}

/** Channel metadata keys: enough for `qi play` to host the member again. */
export const META = {
  service: "qi.service",
  member: "qi.member",
  kind: "qi.kind",
  signature: "qi.signature",
} as const;

/** The camera convention: (width, height, sequence, RGB bytes). */
export const IMAGE_SIGNATURE = "(iiIr)";

export interface ChannelDefinition {
  topic: string;
  messageEncoding: "json" | "ros1";
  schemaName: string;
  schemaEncoding: "jsonschema" | "ros1msg";
  schemaData: Uint8Array;
  metadata: Map<string, string>;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function topicOf(m: QiMember): string {
  return m.kind === "calls" ? `/${m.service}/(calls)` : `/${m.service}/${m.member}`;
}

function isImage(m: QiMember): boolean {
  return m.kind === "signal" && m.signature === IMAGE_SIGNATURE;
}

export function channelDefinition(m: QiMember): ChannelDefinition {
  const metadata = new Map<string, string>([
    [META.service, m.service],
    [META.member, m.member],
    [META.kind, m.kind],
    [META.signature, m.signature],
  ]);
  const topic = topicOf(m);
  if (isImage(m))
    return {
      topic,
      messageEncoding: "ros1",
      schemaName: RAW_IMAGE_SCHEMA_NAME,
      schemaEncoding: "ros1msg",
      schemaData: utf8.encode(RAW_IMAGE_SCHEMA),
      metadata,
    };
  return {
    topic,
    messageEncoding: "json",
    schemaName: schemaNameOf(m),
    schemaEncoding: "jsonschema",
    schemaData: utf8.encode(JSON.stringify(jsonSchemaOf(m))),
    metadata,
  };
}

/** Schemas are shared by signature: `qi.signal(i)`, `qi.property.f`, `qi.calls`. */
function schemaNameOf(m: QiMember): string {
  if (m.kind === "calls") return "qi.calls";
  return m.kind === "property" ? `qi.property:${m.signature}` : `qi.signal:${m.signature}`;
}

function jsonSchemaOf(m: QiMember): Record<string, unknown> {
  if (m.kind === "property")
    return { type: "object", properties: { value: valueSchema(m.signature) }, required: ["value"] };
  if (m.kind === "signal")
    return {
      type: "object",
      properties: {
        args: {
          type: "array",
          prefixItems: tupleMembers(m.signature).map((s) => valueSchema(s)),
          items: false,
        },
      },
      required: ["args"],
    };
  return {
    type: "object",
    properties: {
      id: { type: "integer" },
      kind: { enum: ["call", "result", "error"] },
      method: { type: "string" },
      value: {},
    },
    required: ["id", "kind", "method"],
  };
}

/** What a recorded call, result or error says. */
export interface CallEvent {
  id: number;
  kind: "call" | "result" | "error";
  method: string;
  /** The arguments (a call), the value (a result) or the message (an error), as JSON. */
  value: unknown;
}

/** How values become JSON: wire's toJson by default; the console passes its client's copy. */
export type ToJson = (value: unknown) => unknown;

/** The message of one event: the signal's arguments, the property's new value, or a CallEvent. */
export function encodeEvent(m: QiMember, event: unknown, timeNs: bigint, json: ToJson = toJson): Uint8Array {
  if (isImage(m)) {
    const [width, height, , pixels] = event as [number, number, number, unknown];
    return encodeRawImage({ width, height, pixels: bytesOf(pixels) }, timeNs);
  }
  if (m.kind === "property") return utf8.encode(JSON.stringify({ value: json(short(event, m.signature)) }));
  if (m.kind === "signal") return utf8.encode(JSON.stringify({ args: json(short(event, m.signature)) }));
  const call = event as CallEvent;
  return utf8.encode(JSON.stringify({ ...call, value: json(call.value) }));
}

/**
 * Float32 parts in their shortest decimal (0.8, not 0.800000011920929): what a reader of the
 * file expects, and the same float32 again when the replay encodes it. Skipped for signatures
 * that hold no float32 or dynamic value (most), so they pay nothing.
 */
function short(value: unknown, signature: string): unknown {
  return signature.includes("f") || signature.includes("m") ? tidyFloats(value, signature) : value;
}

/** Raw bytes by shape, not class: the console's values come from another copy of the client. */
function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const bytes = (v as { bytes?: unknown } | null)?.bytes;
  return bytes instanceof Uint8Array ? bytes : new Uint8Array();
}

/** The sequence number to put in the MCAP message record (the camera frame's own). */
export function sequenceOf(m: QiMember, event: unknown, fallback: number): number {
  if (!isImage(m)) return fallback;
  const seq = (event as unknown[])[2];
  return typeof seq === "number" ? seq >>> 0 : fallback;
}

export class EventDecodeError extends Error {
  override name = "EventDecodeError";
}

/**
 * Back to qi values: a signal's argument list, a property's value, or a CallEvent. `sequence`
 * is the message record's (the camera frame's number). Throws EventDecodeError.
 */
export function decodeEvent(m: QiMember, data: Uint8Array, sequence: number): unknown {
  try {
    if (isImage(m)) {
      const { width, height, pixels } = decodeRawImage(data);
      return [width, height, sequence, new Raw(pixels)];
    }
    const message = JSON.parse(utf8Decoder.decode(data)) as Record<string, unknown>;
    if (m.kind === "property") return fromJson(message.value, m.signature);
    if (m.kind === "signal") {
      if (!Array.isArray(message.args)) throw new Error('no "args" array');
      return argsFromJson(message.args, m.signature);
    }
    const { id, kind, method, value } = message;
    if (
      typeof id !== "number" ||
      typeof method !== "string" ||
      !["call", "result", "error"].includes(String(kind))
    )
      throw new Error("not a call event");
    return { id, kind, method, value } as CallEvent;
  } catch (e) {
    throw new EventDecodeError(`${topicOf(m)}: ${(e as Error).message}`);
  }
}

/** The member a channel's metadata describes; undefined for a channel `qi record` did not write. */
export function memberOf(metadata: ReadonlyMap<string, string>): QiMember | undefined {
  const service = metadata.get(META.service);
  const member = metadata.get(META.member);
  const kind = metadata.get(META.kind);
  const signature = metadata.get(META.signature);
  if (service === undefined || member === undefined || signature === undefined) return undefined;
  if (kind !== "signal" && kind !== "property" && kind !== "calls") return undefined;
  return { service, member, kind, signature };
}

/**
 * How a qi topic looks on a Foxglove channel. The camera's `(iiIr)` frame is a
 * `foxglove_msgs/RawImage` (foxglove.RawImage's fields) in ROS 1 encoding, so its pixels
 * travel as their bytes after a small header, never base64. Anything else is JSON with a JSON
 * schema: the same `{data}` messages as rosbridge (the shared qi↔ROS rules), so a number
 * plots as `.data` in Foxglove's panels.
 */
import type { QiTopic } from "../rosbridge/qi-graph.js";
import { messageFromQi } from "../mapping/index.js";
import { IMAGE_SIGNATURE } from "../rosbridge/qi-graph.js";
import { Raw } from "../../wire/index.js";
// The one definition of foxglove.RawImage in ROS 1 form, shared with recordings (record/).
import { RAW_IMAGE_SCHEMA, RAW_IMAGE_SCHEMA_NAME } from "../../record/index.js";

export interface ChannelDefinition {
  topic: string;
  encoding: string;
  schemaName: string;
  schema: string;
  schemaEncoding: string;
}

const JSON_TYPES: Record<string, string> = {
  b: "boolean",
  s: "string",
  f: "number",
  d: "number",
};

/** A JSON schema for the `{data}` message of a qi signature (a scalar's type, else a string of JSON). */
function jsonSchema(signature: string): string {
  const inner = /^\((.)\)$/.exec(signature)?.[1] ?? signature;
  const type = JSON_TYPES[inner] ?? (/^[cCwWiIlL]$/.test(inner) ? "integer" : "string");
  return JSON.stringify({ type: "object", properties: { data: { type } } });
}

export function channelFor(topic: QiTopic): ChannelDefinition {
  if (topic.signature === IMAGE_SIGNATURE)
    return {
      topic: topic.name,
      encoding: "ros1",
      schemaName: RAW_IMAGE_SCHEMA_NAME,
      schema: RAW_IMAGE_SCHEMA,
      schemaEncoding: "ros1msg",
    };
  return {
    topic: topic.name,
    encoding: "json",
    schemaName: topic.type,
    schema: jsonSchema(topic.signature),
    schemaEncoding: "jsonschema",
  };
}

const utf8 = new TextEncoder();

/**
 * foxglove_msgs/RawImage in ROS 1 serialization (little-endian, strings and arrays
 * length-prefixed) up to the pixels' length: the pixels, the message's last field, follow
 * as they are, so they are never copied into a joined buffer.
 */
export function rawImageHead(
  width: number,
  height: number,
  pixelBytes: number,
  nowMs: number,
): Uint8Array<ArrayBuffer> {
  const frameId = utf8.encode("camera");
  const encoding = utf8.encode("rgb8");
  const head = new Uint8Array(8 + 4 + frameId.length + 8 + 4 + encoding.length + 4 + 4);
  const view = new DataView(head.buffer);
  let at = 0;
  view.setUint32(at, Math.floor(nowMs / 1000), true);
  view.setUint32(at + 4, (nowMs % 1000) * 1e6, true);
  at += 8;
  view.setUint32(at, frameId.length, true);
  head.set(frameId, at + 4);
  at += 4 + frameId.length;
  view.setUint32(at, width, true);
  view.setUint32(at + 4, height, true);
  at += 8;
  view.setUint32(at, encoding.length, true);
  head.set(encoding, at + 4);
  at += 4 + encoding.length;
  view.setUint32(at, width * 3, true);
  view.setUint32(at + 4, pixelBytes, true);
  return head;
}

/** One qi event on `topic`'s channel: the payload, or its head and the bytes that follow it. */
export interface Payload {
  head: Uint8Array<ArrayBuffer>;
  tail?: Uint8Array;
}

export function payloadFor(topic: QiTopic, args: readonly unknown[], nowMs: number): Payload {
  if (topic.signature === IMAGE_SIGNATURE) {
    const [width, height, , pixels] = args as [number, number, unknown, Raw];
    const tail = pixels instanceof Raw ? pixels.bytes : new Uint8Array();
    return { head: rawImageHead(width, height, tail.byteLength, nowMs), tail };
  }
  return { head: utf8.encode(JSON.stringify(messageFromQi(topic.signature, args, false))) };
}

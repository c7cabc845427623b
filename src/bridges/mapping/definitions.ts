/**
 * The standard ROS 1 message definitions (@foxglove/rosmsg-msgs-common) the mapping's types
 * name, with their dependencies: what a serializer needs to write a mapped message as ROS 1
 * bytes (the ROS 1 bridge's topics, rosbridge's `cbor-raw`), and the md5sum and
 * `message_definition` rosbag and rviz read.
 */
import type { MessageDefinition } from "@foxglove/message-definition";
import { ros1 } from "@foxglove/rosmsg-msgs-common";
import { MessageWriter } from "@foxglove/rosmsg-serialization";
import { mappingForType } from "./types.js";

const COMMON = ros1 as unknown as Record<string, MessageDefinition>;

/** `type` and every type it uses, the main one first (what advertise() and md5 want). */
export function messageDefinitions(type: string): MessageDefinition[] {
  const main = COMMON[type];
  if (!main)
    throw new Error(`unknown message type ${type} (the standard set has ${Object.keys(COMMON).length})`);
  const out: MessageDefinition[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = COMMON[name];
    if (!def) throw new Error(`message type ${type} uses ${name}, which is not in the standard set`);
    out.push(def);
    for (const f of def.definitions) if (f.isComplex) visit(f.type);
  };
  visit(type);
  return out;
}

const writers = new Map<string, MessageWriter>();

/** A ROS 1 serializer for a standard type (made once per type); times are `{sec, nsec}`. */
export function messageWriter(type: string): MessageWriter {
  let w = writers.get(type);
  if (!w) {
    w = new MessageWriter(messageDefinitions(type));
    writers.set(type, w);
  }
  return w;
}

/**
 * The ROS 1 serialization of one qi event as the mapped `type` (a signal's arguments, a
 * property's `[value]`): what rosbridge's `cbor-raw` carries. Throws for a type outside the
 * standard set or one the signature does not convert to.
 */
export function serializeMessage(type: string, signature: string, args: readonly unknown[]): Uint8Array {
  return messageWriter(type).writeMessage(mappingForType(type, signature).toMessage(args));
}

/**
 * ALMemory keys as topics, the same way in every bridge: a mapping entry
 * `{service: ALMemory, memoryKey: "Device/Head/Touch"}` is the topic
 * `/qi/ALMemory/Device/Head/Touch` of type std_msgs/String. Its messages are the key's value
 * as text (a string as it is, anything else as JSON), fed by ALMemory's `dataChanged` for that
 * key and latched: a new subscriber first gets `getData(key)`. A web client publishing
 * `{data: "…"}` to it calls `insertData(key, "…")`: the text goes in as a string.
 */
import type { RemoteObject } from "../../object/index.js";
import { Dynamic } from "../../wire/index.js";
import { argsToJsonText } from "./json.js";

/** The qi signature of one message of a memory key's topic (the value's text). */
export const MEMORY_KEY_SIGNATURE = "(s)";

/** An ALMemory value as text: strings as they are, anything else as JSON. */
export function memoryText(value: unknown): string {
  const v = value instanceof Dynamic ? value.value : value;
  return typeof v === "string" ? v : argsToJsonText([v]);
}

/**
 * Calls `onText` with the key's current value (when it has one) and then each change of it;
 * resolves to what undoes the link.
 */
export async function linkMemoryKey(
  memory: RemoteObject,
  key: string,
  onText: (text: string) => void,
): Promise<() => Promise<void>> {
  const signal = memory.signal("dataChanged");
  const link = await signal.connect((changed: string, value: unknown) => {
    if (changed === key) onText(memoryText(value));
  });
  const current = await memory.call("getData", key).catch(() => undefined);
  if (current !== undefined) onText(memoryText(current));
  return () => signal.disconnect(link);
}

/** A client's message for a memory key → what insertData stores (the text as a string). */
export function memoryValueFromMessage(msg: unknown): string {
  const data = typeof msg === "object" && msg !== null ? (msg as { data?: unknown }).data : undefined;
  if (typeof data !== "string") throw new Error('an ALMemory key takes {data: "<text>"}');
  return data;
}

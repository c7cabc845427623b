/**
 * What the web bridges do with a topic of the qi graph, in one place for rosbridge and
 * Foxglove: follow it (a signal's events; a property's or a memory key's value, current one
 * first) and write to it (set the property, post the method, insertData the memory key).
 */
import type { RemoteObject } from "../../object/index.js";
import { argsFromMessage, linkMemoryKey, memoryValueFromMessage } from "../mapping/index.js";
import type { QiTopic } from "./qi-graph.js";

/** Calls `onArgs` with each message's qi arguments; resolves to what undoes the link. */
export async function followTopic(
  object: RemoteObject,
  topic: QiTopic,
  onArgs: (args: readonly unknown[]) => void,
): Promise<() => Promise<void>> {
  switch (topic.kind) {
    case "signal": {
      const signal = object.signal(topic.member);
      const link = await signal.connect((...args: unknown[]) => onArgs(args));
      return () => signal.disconnect(link);
    }
    case "property": {
      const property = object.property(topic.member);
      const link = await property.connect((value: unknown) => onArgs([value]));
      onArgs([await property.get()]);
      return () => property.disconnect(link);
    }
    case "memoryKey":
      return linkMemoryKey(object, topic.member, (text) => onArgs([text]));
    default:
      throw new Error(`${topic.name} is a qi method: publish to it, or call it`);
  }
}

/** A client's message published to `topic`, into the robot. */
export async function writeTopic(object: RemoteObject, topic: QiTopic, msg: unknown): Promise<void> {
  switch (topic.kind) {
    case "property":
      await object.property(topic.member).set(argsFromMessage(topic.signature, msg)[0]);
      return;
    case "method":
      object.post(topic.member, ...argsFromMessage(topic.signature, msg, topic.argPaths));
      return;
    case "memoryKey":
      await object.call("insertData", topic.member, memoryValueFromMessage(msg));
      return;
    default:
      throw new Error(`${topic.name} is a qi signal: only its service emits it`);
  }
}

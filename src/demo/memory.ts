/**
 * An ALMemory-like key/value store: values are dynamics (any type), every insert emits
 * `dataChanged(key, value)`. Reading a missing key is an error, like NAOqi's.
 */
import { QiObject } from "../object/index.js";
import type { Dynamic } from "../wire/index.js";
import type { DemoService } from "./types.js";

export function createMemory(): DemoService {
  const data = new Map<string, Dynamic>();
  const object = new QiObject({ description: "Simulated ALMemory: a key/value store of dynamic values" });
  object
    .method(
      "insertData",
      "(sm)",
      "v",
      (key: string, value: Dynamic) => {
        data.set(key, value);
        object.emit("dataChanged", key, value);
      },
      {
        description: "Stores a value under a key and emits dataChanged",
        parameters: [{ name: "key" }, { name: "value" }],
      },
    )
    .method(
      "getData",
      "(s)",
      "m",
      (key: string) => {
        const value = data.get(key);
        if (!value) throw new Error(`ALMemory::getData: no data under key "${key}"`);
        return value;
      },
      { description: "The value stored under a key", parameters: [{ name: "key" }] },
    )
    .method(
      "getDataList",
      "(s)",
      "[s]",
      (filter: string) => [...data.keys()].filter((k) => k.includes(filter)).sort(),
      { description: "Keys that contain the filter text", parameters: [{ name: "filter" }] },
    )
    .method(
      "removeData",
      "(s)",
      "v",
      (key: string) => {
        data.delete(key);
      },
      { description: "Removes a key", parameters: [{ name: "key" }] },
    )
    .signal("dataChanged", "(sm)");
  return { name: "ALMemory", object };
}

/**
 * The fallback for values no standard type fits: JSON text (what `qi watch --json` prints, so
 * one value reads the same in every tool), carried in a string message.
 */
import { toJson } from "../../wire/index.js";

/** JSON of a signal's arguments: the value itself for one argument, an array for several. */
export function argsToJsonText(args: readonly unknown[]): string {
  const value = args.length === 1 ? args[0] : [...args];
  return JSON.stringify(toJson(value));
}

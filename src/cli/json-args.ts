/**
 * Command-line arguments: JSON (spec §8.3), or, as qicli takes them, plain text for a string
 * (`qi call ALTextToSpeech.say hello`). Converted by the signature of the member they go to;
 * the conversion is wire/json.ts's, shared with the web console.
 */
import { parseJson } from "../wire/index.js";

export { argsFromJson, ConversionError, fromJson, jsonToDynamic } from "../wire/index.js";

/** One argument as typed, and its value: parsed JSON, or the text itself when it is not JSON. */
export interface CliArg {
  text: string;
  value: unknown;
}

/** Parses an argument as JSON; text that is not JSON is a string, as qicli takes it. */
export function parseCliArg(text: string): CliArg {
  try {
    return { text, value: parseJson(text) };
  } catch {
    return { text, value: text };
  }
}

/** The JSON value of argument `index` (1-based); plain text is a string. */
export function parseJsonArg(text: string, _index?: number): unknown {
  return parseCliArg(text).value;
}

/**
 * The values again, with every argument a string parameter wants taken as the text typed:
 * `qi call ALMemory.insertData key 42` stores "key", and `... say 42` says "42".
 */
export function asTypedWhereStrings(args: CliArg[], paramCodes: (string | undefined)[]): unknown[] {
  return args.map((a, i) => (paramCodes[i] === "s" && typeof a.value !== "string" ? a.text : a.value));
}

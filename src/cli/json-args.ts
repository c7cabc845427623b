/**
 * Command-line arguments are JSON (like qicli, spec §8.3), converted by the signature of the
 * member they go to. The conversion is wire/json.ts's, shared with the web console; this file
 * only turns unparsable text into a usage error that says how to quote.
 */
import { parseJson } from "../wire/index.js";
import { usageError } from "./errors.js";

export { argsFromJson, ConversionError, fromJson, jsonToDynamic } from "../wire/index.js";

/** Parses argument `index` (1-based, for messages) as JSON; a usage error when it is not. */
export function parseJsonArg(text: string, index: number): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw usageError(
      `argument ${index} (${shown}) is not JSON: ${(e as Error).message}`,
      `quoting strings as JSON, e.g. '"hello"', and objects as '{"key": 1}'`,
    );
  }
}

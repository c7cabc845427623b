/**
 * The real libqi 4.0.5 captures shipped with the tests (test/fixtures/libqi-4.0.5-wire.tsv):
 * name → { signature, hex }. Lines are `name<TAB>signature<TAB>hex`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Capture {
  signature: string;
  hex: string;
}

const path = fileURLToPath(new URL("../fixtures/libqi-4.0.5-wire.tsv", import.meta.url));

export const captures: ReadonlyMap<string, Capture> = new Map(
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [name, signature, hex] = line.split("\t");
      return [name, { signature, hex }] as const;
    }),
);

export function capture(name: string): Capture {
  const c = captures.get(name);
  if (!c) throw new Error(`no capture named ${name}`);
  return c;
}

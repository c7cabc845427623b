/** Which values the console can plot: numeric scalars of a signature, and a value as a number. */
import { parseSignature } from "../client/index.js";

const NUMERIC = new Set(["c", "C", "w", "W", "i", "I", "l", "L", "f", "d", "b"]);

/** Whether a one-type signature (`f`, `i`, `(i)<LogLevel,level>`…) is a plottable number. */
export function isNumericSignature(sig: string): boolean {
  try {
    const n = parseSignature(sig);
    if (n.kind === "scalar") return NUMERIC.has(n.code) || n.code === "m";
    return false;
  } catch {
    return false;
  }
}

/** Indexes of the numeric members of a tuple signature (a signal's arguments). */
export function numericMembers(types: string[]): number[] {
  return types.flatMap((t, i) => (isNumericSignature(t) ? [i] : []));
}

/** A received value as a number for a plot (a dynamic's inner value too); NaN when not numeric. */
export function asNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v !== null && typeof v === "object" && "value" in v && "signature" in v)
    return asNumber((v as { value: unknown }).value);
  return Number.NaN;
}

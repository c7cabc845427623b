/**
 * Reading the `{sm}` maps of the handshake — authenticate calls and their answers, Capability
 * messages — from a peer that has not authenticated yet, so may be anyone. The generic codec
 * would build whatever the dynamic values describe; here only scalar values are decoded, the
 * entry count and string sizes are bounded, and only known capability keys are ever kept.
 */
import { decodeFrom } from "../wire/index.js";
import { WireError } from "../wire/index.js";
import { Reader } from "../wire/index.js";
import { parseSignature } from "../wire/index.js";
import { Capability, type CapabilityMap, mergeCapabilities } from "./capabilities.js";

/** Entries one handshake map may hold (libqi sends 6 capabilities + a few auth keys). */
export const MAX_HANDSHAKE_MAP_ENTRIES = 64;
/** Longest capability key or string value kept (libqi's are booleans, or short strings). */
export const MAX_CAPABILITY_VALUE_BYTES = 256;
/**
 * Capability messages a peer may send before its handshake is done: libqi sends one right after
 * connecting; a peer that keeps sending them is refused and disconnected.
 */
export const MAX_HANDSHAKE_CAPABILITY_MESSAGES = 16;

/** Signatures of the values decoded before authentication: fixed-size numbers, booleans, strings. */
const SCALAR_VALUE_SIGNATURES: ReadonlySet<string> = new Set([
  "b",
  "c",
  "C",
  "w",
  "W",
  "i",
  "I",
  "l",
  "L",
  "f",
  "d",
  "s",
]);

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set(Object.values(Capability));

/**
 * What to do with a value that is not a scalar: "refuse" throws (an authenticate map must be
 * read whole), "stop" returns the entries read so far (a Capability message is advisory, and
 * its unknown values cannot be skipped without decoding them).
 */
export type ComplexValuePolicy = "refuse" | "stop";

/**
 * Decodes a `{sm}` handshake map, values unwrapped from their dynamics. Throws a WireError for
 * a malformed map, one with more than MAX_HANDSHAKE_MAP_ENTRIES entries, or (policy "refuse")
 * a value whose signature is not a scalar; never decodes such a value.
 */
export function decodeHandshakeMap(payload: Uint8Array, policy: ComplexValuePolicy): Map<string, unknown> {
  const r = new Reader(payload);
  const n = r.u32();
  if (n > MAX_HANDSHAKE_MAP_ENTRIES) {
    throw new WireError(
      "ERR_COUNT_TOO_LARGE",
      `handshake map of ${n} entries (at most ${MAX_HANDSHAKE_MAP_ENTRIES} are accepted)`,
      0,
    );
  }
  const out = new Map<string, unknown>();
  for (let i = 0; i < n; i++) {
    const key = r.text();
    if (key === undefined)
      throw new WireError("ERR_BAD_UTF8", "handshake map key is not valid UTF-8", r.lastStringOffset);
    const signature = r.text();
    const at = r.lastStringOffset;
    if (signature === undefined || !SCALAR_VALUE_SIGNATURES.has(signature)) {
      if (policy === "stop") break;
      throw new WireError(
        "ERR_UNSERIALIZABLE",
        `handshake value of ${JSON.stringify(truncate(key))} has signature ${JSON.stringify(truncate(signature ?? "?"))}: only scalar values are accepted here`,
        at,
      );
    }
    const value = decodeFrom(r, parseSignature(signature));
    if (!out.has(key)) out.set(key, value);
  }
  if (policy === "refuse") r.expectEnd();
  return out;
}

/**
 * Merges the capabilities of `from` that we know into `into` (insert-if-absent, like libqi):
 * unknown keys are ignored (spec §5.2) and long strings dropped, so a peer can never make us
 * store more than the known keys with small values.
 */
export function mergeKnownCapabilities(into: CapabilityMap, from: Map<string, unknown>): void {
  const kept: CapabilityMap = new Map();
  for (const [k, v] of from) {
    if (!KNOWN_CAPABILITIES.has(k)) continue;
    if (typeof v === "string" && v.length > MAX_CAPABILITY_VALUE_BYTES) continue;
    if (typeof v === "object" && v !== null) continue;
    kept.set(k, v);
  }
  mergeCapabilities(into, kept);
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

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

/** The known keys, by name: what is stored is our own string, not the one decoded from the peer. */
const KNOWN_CAPABILITIES: ReadonlyMap<string, string> = new Map(Object.values(Capability).map((k) => [k, k]));

/**
 * Capability maps as peers advertise them, one map per distinct content: thousands of clients
 * of the same kind share one (a map of six entries is a few hundred bytes per connection).
 * Bounded, since the values are the peer's: past MAX_SHARED_CAPABILITY_MAPS contents, a map is
 * kept by its connection alone.
 */
const sharedCapabilityMaps = new Map<string, ReadonlyMap<string, unknown>>();
export const MAX_SHARED_CAPABILITY_MAPS = 64;

/** The capabilities of a peer before it advertised any. */
export const NO_CAPABILITIES: ReadonlyMap<string, unknown> = new Map();

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
  mergeCapabilities(into, knownCapabilities(from));
}

/**
 * The same without changing `current`: the merged capabilities, as a map shared with every
 * connection whose peer advertised the same (see sharedCapabilityMaps). Returns `current`
 * itself when `from` adds nothing.
 */
export function mergedKnownCapabilities(
  current: ReadonlyMap<string, unknown>,
  from: Map<string, unknown>,
): ReadonlyMap<string, unknown> {
  const kept = knownCapabilities(from);
  let added = false;
  for (const k of kept.keys()) if (!current.has(k)) added = true;
  if (!added) return current;
  const merged: CapabilityMap = new Map(current);
  mergeCapabilities(merged, kept);
  const content = [...merged].map(([k, v]) => `${k}=${typeof v}:${String(v)}`).join("\n");
  const shared = sharedCapabilityMaps.get(content);
  if (shared) return shared;
  if (sharedCapabilityMaps.size < MAX_SHARED_CAPABILITY_MAPS) sharedCapabilityMaps.set(content, merged);
  return merged;
}

/** The entries of `from` with a known key and a small scalar value, under our own key strings. */
function knownCapabilities(from: Map<string, unknown>): CapabilityMap {
  const kept: CapabilityMap = new Map();
  for (const [k, v] of from) {
    const key = KNOWN_CAPABILITIES.get(k);
    if (key === undefined) continue;
    if (typeof v === "string" && v.length > MAX_CAPABILITY_VALUE_BYTES) continue;
    if (typeof v === "object" && v !== null) continue;
    kept.set(key, v);
  }
  return kept;
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

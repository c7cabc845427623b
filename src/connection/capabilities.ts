/**
 * Capabilities (spec §5.2): a `{sm}` map advertised once per connection by each side.
 * A feature is used only when the *shared* value is true (both sides true; absent = false).
 */
import { Dynamic } from "../wire/index.js";

export type CapabilityMap = Map<string, unknown>;

export const Capability = {
  ClientServerSocket: "ClientServerSocket",
  MessageFlags: "MessageFlags",
  MetaObjectCache: "MetaObjectCache",
  ObjectPtrUID: "ObjectPtrUID",
  RelativeEndpointURI: "RelativeEndpointURI",
  RemoteCancelableCalls: "RemoteCancelableCalls",
} as const;

/**
 * What we advertise. MetaObjectCache is false like libqi 4.x (disabled there as a bug
 * quick-fix in 2018), so the cache format never appears on our connections.
 */
export function defaultCapabilities(): CapabilityMap {
  return new Map(DEFAULT_CAPABILITIES);
}

/**
 * The same, shared by every connection that advertises the defaults (most do): one map for all
 * of them instead of one each. Read-only; defaultCapabilities() gives a copy to change.
 */
export const DEFAULT_CAPABILITIES: ReadonlyMap<string, unknown> = makeDefaultCapabilities();

function makeDefaultCapabilities(): CapabilityMap {
  return new Map<string, unknown>([
    [Capability.ClientServerSocket, true],
    [Capability.MessageFlags, true],
    [Capability.MetaObjectCache, false],
    [Capability.ObjectPtrUID, true],
    [Capability.RelativeEndpointURI, true],
    [Capability.RemoteCancelableCalls, true],
  ]);
}

/** Insert-if-absent merge: a later advertisement adds keys but never changes one (libqi). */
export function mergeCapabilities(into: CapabilityMap, from: CapabilityMap): void {
  for (const [k, v] of from) if (!into.has(k)) into.set(k, v);
}

export function sharedCapability(
  local: ReadonlyMap<string, unknown>,
  remote: ReadonlyMap<string, unknown>,
  key: string,
): boolean {
  return local.get(key) === true && remote.get(key) === true;
}

/** Encodes a map for the wire: values become dynamics with their natural signature. */
export function toWireMap(map: ReadonlyMap<string, unknown>): Map<string, Dynamic> {
  const out = new Map<string, Dynamic>();
  for (const k of [...map.keys()].sort(compareBytewise)) {
    const v = map.get(k);
    out.set(k, v instanceof Dynamic ? v : dynamicOf(v));
  }
  return out;
}

function dynamicOf(v: unknown): Dynamic {
  if (typeof v === "boolean") return new Dynamic("b", v);
  if (typeof v === "string") return new Dynamic("s", v);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return new Dynamic("I", v);
  if (typeof v === "number") return new Dynamic("d", v);
  return new Dynamic("s", String(v));
}

/** libqi's std::map orders keys bytewise ("A-Z" < "_" < "a-z"); keep that order on the wire. */
export function compareBytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

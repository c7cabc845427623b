/**
 * A method returning an object (`o`) gives the caller a proxy full of sockets and closures:
 * printed as JSON it would be thousands of lines of internals. The CLI prints a short
 * description instead (where it lives, its members) and releases the object, since nobody
 * holds it after the command exits.
 */
import { RemoteObject } from "../object/index.js";
import { Dynamic, Optional, Struct } from "../wire/index.js";

export interface ObjectSummary {
  object: string;
  description?: string;
  methods: string[];
  signals: string[];
  properties: string[];
}

/** Members 0–8 and 80–86 every object has: not worth listing. */
const RESERVED_MAX = 100;

export function summarise(obj: RemoteObject, service: string): ObjectSummary {
  const meta = obj.metaObject;
  const names = <T extends { uid: number; name: string }>(m: Map<number, T>) => [
    ...new Set([...m.values()].filter((x) => x.uid >= RESERVED_MAX).map((x) => x.name)),
  ];
  return {
    object: `${service} service #${obj.serviceId}, object #${obj.objectId}`,
    ...(meta.description ? { description: meta.description } : {}),
    methods: names(meta.methods),
    // A property is also a signal of the same id: listed once, as a property.
    signals: names(new Map([...meta.signals].filter(([uid]) => !meta.properties.has(uid)))),
    properties: names(meta.properties),
  };
}

/**
 * The value with every RemoteObject in it (at any depth of lists, maps, structs, optionals,
 * dynamics) replaced by its summary; `found` collects them so the caller can release them.
 */
export function withObjectsSummarised(value: unknown, service: string, found: RemoteObject[]): unknown {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 64 || v === null || typeof v !== "object") return v;
    if (v instanceof RemoteObject) {
      found.push(v);
      return summarise(v, service);
    }
    if (v instanceof Dynamic) return walk(v.value, depth + 1);
    if (v instanceof Optional) return v.hasValue ? walk(v.value, depth + 1) : null;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, walk(x, depth + 1)]));
    if (v instanceof Struct) {
      const fields: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v.fields)) fields[k] = walk(x, depth + 1);
      return new Struct(v.name, fields);
    }
    return v;
  };
  return walk(value, 0);
}

/** Releases (terminate) every object found, ignoring one already gone. */
export function releaseAll(objects: RemoteObject[]): void {
  for (const o of objects) {
    try {
      o.release();
    } catch {
      // Already released or its connection closed: nothing left to free.
    }
  }
}

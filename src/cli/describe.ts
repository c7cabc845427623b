/**
 * Readable member descriptions for `qi info`: `add(i a, i b) -> i` (parameter names when the
 * service gave them), signals `tick(i)`, properties `level: i`.
 */
import type { MetaMethod, MetaObject, MetaProperty, MetaSignal } from "../wire/index.js";
import { parseSignature, printSignature } from "../wire/index.js";

export const FIRST_USER_MEMBER = 100;

/** The members of a tuple signature as printed types (one entry for a non-tuple). */
export function memberTypes(sig: string): string[] {
  try {
    const node = parseSignature(sig);
    if (node.kind === "tuple" && node.fieldNames === undefined)
      return node.members.map((m) => printSignature(m));
    return node.kind === "scalar" && node.code === "m" ? ["m..."] : [printSignature(node)];
  } catch {
    return [sig];
  }
}

export function methodLine(m: MetaMethod): string {
  const types = memberTypes(m.parametersSignature);
  const params = types.map((t, i) => {
    const name = m.parameters[i]?.name;
    return name ? `${t} ${name}` : t;
  });
  return `${m.name}(${params.join(", ")}) -> ${m.returnSignature}`;
}

export function signalLine(s: MetaSignal): string {
  return `${s.name}(${memberTypes(s.signature).join(", ")})`;
}

export function propertyLine(p: MetaProperty): string {
  return `${p.name}: ${p.signature}`;
}

export interface Members {
  methods: MetaMethod[];
  signals: MetaSignal[];
  properties: MetaProperty[];
}

/** Members sorted by id; reserved ones (< 100) only with `hidden`; property signals once. */
export function visibleMembers(meta: MetaObject, hidden: boolean): Members {
  const keep = (uid: number) => hidden || uid >= FIRST_USER_MEMBER;
  const byUid = <T extends { uid: number }>(a: T, b: T) => a.uid - b.uid;
  const properties = [...meta.properties.values()].filter((p) => keep(p.uid)).sort(byUid);
  const propertyIds = new Set(meta.properties.keys());
  return {
    methods: [...meta.methods.values()].filter((m) => keep(m.uid)).sort(byUid),
    signals: [...meta.signals.values()].filter((s) => keep(s.uid) && !propertyIds.has(s.uid)).sort(byUid),
    properties,
  };
}

/** The JSON form of `qi info --json`. */
export function membersJson(members: Members) {
  return {
    methods: members.methods.map((m) => ({
      id: m.uid,
      name: m.name,
      parametersSignature: m.parametersSignature,
      returnSignature: m.returnSignature,
      parameters: memberTypes(m.parametersSignature).map((type, i) => ({
        name: m.parameters[i]?.name ?? "",
        type,
        description: m.parameters[i]?.description ?? "",
      })),
      description: m.description,
      returnDescription: m.returnDescription,
      text: methodLine(m),
    })),
    signals: members.signals.map((s) => ({
      id: s.uid,
      name: s.name,
      signature: s.signature,
      text: signalLine(s),
    })),
    properties: members.properties.map((p) => ({
      id: p.uid,
      name: p.name,
      signature: p.signature,
      text: propertyLine(p),
    })),
  };
}

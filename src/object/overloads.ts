/** Overload resolution of a call by name (`name` or `name::(sig)`) and argument count. */
import { QiError } from "../connection/errors.js";
import { type MetaMethod, parseSignature } from "../wire/index.js";

export function overloadsFor(
  byName: ReadonlyMap<string, MetaMethod[]>,
  name: string,
  argc: number,
  owner: string,
): MetaMethod[] {
  const sep = name.indexOf("::");
  if (sep >= 0) {
    const base = name.slice(0, sep);
    const sig = name.slice(sep + 2);
    const exact = (byName.get(base) ?? []).filter((m) => m.parametersSignature === sig);
    if (exact.length === 0) throw new QiError("ERR_NO_SUCH_MEMBER", `no method "${name}" on ${owner}`);
    return exact;
  }
  const all = byName.get(name);
  if (!all || all.length === 0) throw new QiError("ERR_NO_SUCH_MEMBER", `no method "${name}" on ${owner}`);
  if (all.length === 1 && acceptsCount(all[0], argc)) return all;
  const byCount = all.filter((m) => acceptsCount(m, argc));
  if (byCount.length === 0) {
    const sigs = all.map((m) => `${m.name}::${m.parametersSignature}`).join(", ");
    throw new QiError("ERR_BAD_ARGUMENTS", `${argc} argument(s) do not fit ${sigs}`);
  }
  return byCount;
}

/** Whether a method can take `argc` arguments (a tuple of that many, or anything for `m`). */
function acceptsCount(m: MetaMethod, argc: number): boolean {
  const node = parseSignature(m.parametersSignature);
  return node.kind === "tuple" ? node.members.length === argc : true;
}

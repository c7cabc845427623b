/**
 * qicli's patterns: `qi info 'AL*'`, `qi watch 'ALMemory.*'`, `qi trace` (every service).
 * `*` matches any run of characters; services whose name starts with `_` match only a pattern
 * that starts with `_` (as `qi services` hides them).
 */
import { pattern } from "../gateway/index.js";
import type { Session } from "../session/index.js";
import { failure } from "./errors.js";

export function isPattern(text: string): boolean {
  return text.includes("*");
}

/** The registered services matching a pattern, in id order; a failure when none does. */
export async function servicesMatching(session: Session, glob: string): Promise<string[]> {
  const re = pattern(glob);
  const names = (await session.services())
    .filter((s) => re.test(s.name) && (glob.startsWith("_") || !s.name.startsWith("_")))
    .map((s) => s.name);
  if (names.length === 0)
    throw failure(`no service matches "${glob}"`, "`qi services` for the registered services");
  return names;
}

/** Service names for the arguments: names as given, patterns expanded (each name once). */
export async function expandServices(session: Session, args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    for (const name of isPattern(a) ? await servicesMatching(session, a) : [a])
      if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Which members of a list a member pattern picks (`*` all, `on*`…). */
export function membersMatching(names: string[], glob: string): string[] {
  const re = pattern(glob);
  return names.filter((n) => re.test(n));
}

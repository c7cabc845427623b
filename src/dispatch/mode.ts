/**
 * The dispatch mode: `async` (default) runs every call as soon as it arrives and lets calls that
 * await something overlap; `sync` runs one call at a time, to completion, in arrival order, so a
 * debugger and the logs tell one story (design.md, "Decisions already made").
 */
import { DispatchError } from "./errors.js";

export type DispatchMode = "async" | "sync";

export const DISPATCH_MODES: readonly DispatchMode[] = ["async", "sync"];

/**
 * Parses a mode given as text (env variable, CLI flag `--dispatch sync`, config file). Case and
 * surrounding blanks are ignored; anything else than async/sync is an ERR_BAD_MODE naming `source`.
 */
export function parseDispatchMode(value: string, source = "dispatch mode"): DispatchMode {
  const v = value.trim().toLowerCase();
  if (v === "async" || v === "sync") return v;
  throw new DispatchError(
    "ERR_BAD_MODE",
    `${source} must be "async" or "sync", got ${JSON.stringify(value)}`,
  );
}

/** `QI_DISPATCH=sync|async`; unset or empty means async. */
export function dispatchModeFromEnv(env: NodeJS.ProcessEnv = process.env): DispatchMode {
  const v = env.QI_DISPATCH;
  if (v === undefined || v.trim() === "") return "async";
  return parseDispatchMode(v, "QI_DISPATCH");
}

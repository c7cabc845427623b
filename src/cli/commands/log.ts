/**
 * `qi log [--level LEVEL] [--category PATTERN]...`: print the robot's log messages live, like
 * qicli's log-view: a LogListener from the LogManager service, with its verbosity and category
 * filters set, printing each `onLogMessage`.
 */
import type { Command } from "commander";
import { globMatches, LOG_LEVELS, levelOf, logLevel } from "../../demo/index.js";
import type { RemoteObject } from "../../object/index.js";
import { Struct } from "../../wire/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { usageError } from "../errors.js";
import { EventBudget, onCleanup } from "../lifecycle.js";
import { Output, type Style } from "../output.js";
import { action } from "../program.js";
import { rideThrough } from "../ride-through.js";
import { openService } from "../target.js";
import { parseCount } from "./watch.js";

const LEVELS: readonly string[] = LOG_LEVELS;
const LEVEL_STYLES: Record<number, Style> = {
  1: "red",
  2: "red",
  3: "yellow",
  4: "green",
  5: "dim",
  6: "dim",
};

interface Options extends ConnectionOptions {
  level: string;
  category: string[];
  count?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("log")
      .description("print the robot's log messages (LogManager) as they come; Ctrl-C stops")
      .option(
        "-l, --level <level>",
        "most verbose level shown: fatal, error, warning, info, verbose, debug (or 1-6)",
        "info",
      )
      .option(
        "-c, --category <pattern>",
        "only categories matching this pattern (`*` allowed, e.g. 'qi.*'); repeatable",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option("-n, --count <n>", "exit after this many messages")
      .option("--json", "one JSON object per message"),
  ).action(
    action(async (opts: Options) => {
      const out = new Output(!!opts.json);
      const level = parseLevel(opts.level);
      const patterns = opts.category;
      const limit = parseCount(opts.count);
      const session = await connectSession(opts);
      const manager = await openService(session, "LogManager");
      const budget = new EventBudget(limit);
      const print = (msg: unknown) => {
        const m = fieldsOf(msg);
        const lvl = levelOf(m.level);
        const category = String(m.category ?? "");
        // Filtered here too, in case the robot's filters differ from ours.
        if (lvl > level || (patterns.length > 0 && !patterns.some((p) => globMatches(p, category)))) return;
        if (!budget.take()) return;
        const date = isoDate(m.systemDate);
        const word = LEVELS[lvl] ?? String(lvl);
        const message = String(m.message ?? "");
        if (out.json) {
          out.line(
            JSON.stringify({
              date,
              level: word,
              category,
              message,
              source: String(m.source ?? ""),
              location: String(m.location ?? ""),
              id: Number(m.id ?? 0),
            }),
          );
        } else {
          const style = LEVEL_STYLES[lvl];
          out.line(
            `${out.style("dim", date)} ${style ? out.style(style, word) : word} ${out.style("cyan", category)}: ${message}`,
          );
        }
      };
      let current: { listener: RemoteObject; link: number } | undefined;
      const listen = async () => {
        const listener = await manager.call<RemoteObject>("createListener");
        try {
          await listener.call("setLevel", logLevel(level));
          if (patterns.length > 0) {
            // Everything else silent first, then the wanted categories: right whether the robot
            // lets the most specific or the last filter win.
            await listener.call("setCategory", "*", logLevel(0));
            for (const p of patterns) await listener.call("setCategory", p, logLevel(level));
          }
          current = { listener, link: await listener.signal("onLogMessage").connect(print) };
        } catch (e) {
          releaseQuietly(listener);
          throw e;
        }
      };
      await listen();
      onCleanup(async () => {
        if (!current) return;
        await current.listener.signal("onLogMessage").disconnect(current.link);
        current.listener.release();
      });
      // The listener was an object on the robot: a restarted robot has none, so make a new one.
      const ride = rideThrough(session, "listening to LogManager", async () => {
        if (current) releaseQuietly(current.listener);
        current = undefined;
        await listen();
      });
      process.stderr.write(`listening to LogManager, level ${LEVELS[level]} (Ctrl-C to stop)\n`);
      await Promise.race([budget.done(), ride.failed]);
      return 0;
    }),
  );
}

/**
 * A level word or number (1-6). "silent" (0) is refused: a listener at that level shows
 * nothing, which a user asking for logs never means.
 */
export function parseLevel(text: string): number {
  const t = text.trim().toLowerCase();
  const byName = LEVELS.indexOf(t === "warn" ? "warning" : t);
  if (byName >= 1) return byName;
  const n = Number(t);
  if (t !== "" && Number.isInteger(n) && n >= 1 && n < LEVELS.length) return n;
  throw usageError(`--level must be one of ${LEVELS.slice(1).join(", ")} (or 1-6), got "${text}"`);
}

/** A listener's proxy may have gone with its connection already: nothing left to free then. */
function releaseQuietly(listener: RemoteObject): void {
  try {
    listener.release();
  } catch {
    // Released, or its connection is closed.
  }
}

function fieldsOf(v: unknown): Record<string, unknown> {
  if (v instanceof Struct) return v.fields;
  if (v && typeof v === "object") return v as Record<string, unknown>;
  return {};
}

/** A TimePoint (ns since the epoch) as an ISO date; the time of reception when absent. */
function isoDate(v: unknown): string {
  const ns = v instanceof Struct ? v.fields.ns : Array.isArray(v) ? v[0] : undefined;
  if (typeof ns === "bigint" && ns > 0n) return new Date(Number(ns / 1_000_000n)).toISOString();
  if (typeof ns === "number" && ns > 0) return new Date(ns / 1e6).toISOString();
  return new Date().toISOString();
}

/**
 * A LogManager-like service, wire-compatible with the one NAOqi 2.5 hosts: `log(messages)`
 * takes messages from providers, `createListener()` / `getListener()` return a LogListener
 * object by reference (one per call) that emits `onLogMessage` for the messages its
 * `verbosity` and category `filters` let through. The last 1000 messages are kept; a new
 * listener receives only messages logged after it was created.
 *
 * Filtering: a message passes when `level <= verbosity` and, when some filter matches its
 * category, `level <=` that filter's level. Filters are glob patterns (`*` matches any run of
 * characters); when several match, the most specific wins: an exact name over a pattern, then
 * the pattern with the most literal characters (so `qi.*` beats `*`).
 */
import { pattern } from "../gateway/index.js";
import { QiObject } from "../object/index.js";
import { machineId } from "../session/index.js";
import { Struct } from "../wire/index.js";
import type { DemoService } from "./types.js";

export const LOG_LEVEL_SIGNATURE = "(i)<LogLevel,level>";
export const TIME_POINT_SIGNATURE = "(L)<TimePoint,ns>";
export const LOG_MESSAGE_SIGNATURE = `(s${LOG_LEVEL_SIGNATURE}sssI${TIME_POINT_SIGNATURE}${TIME_POINT_SIGNATURE})<LogMessage,source,level,category,location,message,id,date,systemDate>`;

/** qi::LogLevel, by name. */
export const LOG_LEVELS = ["silent", "fatal", "error", "warning", "info", "verbose", "debug"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Keeps this many messages (the newest). */
export const LOG_HISTORY = 1000;
const DEFAULT_VERBOSITY = 4; // info

/** What in-process code calls to log through the LogManager. */
export type LogFn = (level: LogLevelName | number, category: string, message: string) => void;

export interface LogManagerService extends DemoService {
  /** Logs one message from this process (source "qimessaging:demo"). */
  log: LogFn;
  /** The kept messages, oldest first (at most LOG_HISTORY). */
  history(): readonly Struct[];
}

/** The level number of a LogLevel value: a Struct, a plain number, `[n]` or `{level: n}`. */
export function levelOf(value: unknown): number {
  if (value instanceof Struct) return levelOf(value.fields.level);
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return levelOf(value[0]);
  if (typeof value === "string") {
    const i = LOG_LEVELS.indexOf(value as LogLevelName);
    return i >= 0 ? i : Number(value);
  }
  if (value && typeof value === "object" && "level" in value) return levelOf(value.level);
  return Number.NaN;
}

export function logLevel(level: number): Struct {
  return new Struct("LogLevel", { level });
}

/** The word of a level number ("info"), or the number itself when out of range. */
export function levelName(level: number): string {
  return LOG_LEVELS[level] ?? String(level);
}

/** Whether a glob pattern (`*` = any characters) matches a whole category name. */
export function globMatches(glob: string, category: string): boolean {
  return glob.includes("*") ? pattern(glob).test(category) : glob === category;
}

/** The level of the most specific filter that matches `category`, if any. */
function filterLevel(filters: Map<string, unknown>, category: string): number | undefined {
  let best: { score: number; level: number } | undefined;
  for (const [pattern, level] of filters) {
    if (!globMatches(pattern, category)) continue;
    const score = pattern.includes("*") ? pattern.replaceAll("*", "").length : Number.POSITIVE_INFINITY;
    if (!best || score > best.score) best = { score, level: levelOf(level) };
  }
  return best?.level;
}

/** Whether a listener with this verbosity and these filters passes a message. */
export function passes(
  verbosity: number,
  filters: Map<string, unknown>,
  level: number,
  category: string,
): boolean {
  if (level > verbosity) return false;
  const f = filterLevel(filters, category);
  return f === undefined || level <= f;
}

function createListener(): QiObject {
  const object = new QiObject({
    description: "LogListener: emits onLogMessage for the messages it lets through",
  });
  const filters = () => object.getProperty("filters") as Map<string, unknown>;
  object
    .method(
      "setLevel",
      `(${LOG_LEVEL_SIGNATURE})`,
      "v",
      (level: unknown) => {
        object.setProperty("verbosity", logLevel(levelOf(level)));
      },
      {
        description: "Sets the verbosity: messages above this level are dropped",
        parameters: [{ name: "level" }],
      },
    )
    .method(
      "setCategory",
      `(s${LOG_LEVEL_SIGNATURE})`,
      "v",
      (category: string, level: unknown) => {
        const next = new Map(filters());
        next.set(category, logLevel(levelOf(level)));
        object.setProperty("filters", next);
      },
      {
        description: "Sets the level of the categories matching a pattern (`*` allowed)",
        parameters: [{ name: "category" }, { name: "level" }],
      },
    )
    .method(
      "clearFilters",
      "()",
      "v",
      () => {
        object.setProperty("filters", new Map());
      },
      { description: "Removes every category filter" },
    )
    .signal("onLogMessage", `(${LOG_MESSAGE_SIGNATURE})`)
    .property("verbosity", LOG_LEVEL_SIGNATURE, logLevel(DEFAULT_VERBOSITY))
    .property("filters", `{s${LOG_LEVEL_SIGNATURE}}`, new Map());
  return object;
}

export function createLogManager(): LogManagerService {
  const location = `${machineId()}:${process.pid}`;
  const history: Struct[] = [];
  // Weak: a listener lives as long as someone holds it (a peer it is exported to, or local
  // code). Once a remote caller releases it, terminate drops its subscriptions and the export,
  // so it emits to nobody and is eventually collected.
  const listeners = new Set<WeakRef<QiObject>>();
  const providers = new Map<number, unknown>();
  let nextId = 1;
  let nextProvider = 1;

  const dispatch = (msg: Struct) => {
    history.push(msg);
    if (history.length > LOG_HISTORY) history.splice(0, history.length - LOG_HISTORY);
    const level = levelOf(msg.fields.level);
    const category = String(msg.fields.category);
    for (const ref of listeners) {
      const l = ref.deref();
      if (!l) {
        listeners.delete(ref);
        continue;
      }
      const verbosity = levelOf(l.getProperty("verbosity"));
      if (passes(verbosity, l.getProperty("filters") as Map<string, unknown>, level, category))
        l.emit("onLogMessage", msg);
    }
  };

  /** A message as received, with a fresh id; missing fields take defaults. */
  const accept = (raw: unknown) => {
    const f = (raw instanceof Struct ? raw.fields : (raw as Record<string, unknown>)) ?? {};
    const now = timePoints();
    dispatch(
      new Struct("LogMessage", {
        source: String(f.source ?? ""),
        level: logLevel(finiteLevel(levelOf(f.level))),
        category: String(f.category ?? ""),
        location: String(f.location ?? ""),
        message: String(f.message ?? ""),
        id: nextId++,
        date: f.date ?? now.date,
        systemDate: f.systemDate ?? now.systemDate,
      }),
    );
  };

  const newListener = () => {
    const l = createListener();
    listeners.add(new WeakRef(l));
    return l;
  };

  const object = new QiObject({
    description: "Simulated LogManager: collects log messages and serves listeners",
  });
  object
    .method(
      "log",
      `([${LOG_MESSAGE_SIGNATURE}])`,
      "v",
      (messages: unknown[]) => {
        for (const m of messages) accept(m);
      },
      { description: "Logs messages (what log providers send)", parameters: [{ name: "messages" }] },
    )
    .method("createListener", "()", "o", newListener, {
      description: "A new LogListener for the caller, receiving messages from now on",
    })
    .method("getListener", "()", "o", newListener, { description: "Same as createListener" })
    .method(
      "addProvider",
      "(o)",
      "i",
      (source: unknown) => {
        const id = nextProvider++;
        providers.set(id, source);
        return id;
      },
      { description: "Registers a LogProvider object; returns its id", parameters: [{ name: "source" }] },
    )
    .method(
      "removeProvider",
      "(i)",
      "v",
      (id: number) => {
        const p = providers.get(id) as { release?: () => void } | undefined;
        providers.delete(id);
        p?.release?.();
      },
      { description: "Forgets a LogProvider", parameters: [{ name: "id" }] },
    );

  return {
    name: "LogManager",
    object,
    log(level, category, message) {
      const n = finiteLevel(levelOf(level));
      const now = timePoints();
      dispatch(
        new Struct("LogMessage", {
          source: "qimessaging:demo",
          level: logLevel(n),
          category,
          location,
          message,
          id: nextId++,
          date: now.date,
          systemDate: now.systemDate,
        }),
      );
    },
    history: () => history,
  };
}

function finiteLevel(n: number): number {
  return Number.isFinite(n) ? n : DEFAULT_VERBOSITY;
}

/** `date` is a steady clock (qi::Clock), `systemDate` the wall clock, both in ns. */
function timePoints(): { date: Struct; systemDate: Struct } {
  return {
    date: new Struct("TimePoint", { ns: process.hrtime.bigint() }),
    systemDate: new Struct("TimePoint", { ns: BigInt(Date.now()) * 1_000_000n }),
  };
}

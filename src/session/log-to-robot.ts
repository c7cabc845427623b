/**
 * Library logs to a robot's LogManager, as Python's `qi.logging` does: `robotLogger(session)`
 * gives error/warning/info/verbose/debug functions whose messages go to the LogManager service
 * (`log([LogMessage])`), where `qi log` and Choregraphe show them.
 *
 * Messages are batched (one call per tick) in a bounded queue: while the LogManager is slow or
 * away the oldest messages are dropped and counted, never buffered without limit, and a failed
 * send never throws into the code that logs.
 */
import { Struct } from "../wire/index.js";
import type { Session } from "./session.js";

/** The layout NAOqi's LogManager takes (qi::LogMessage with its LogLevel and TimePoints). */
export const LOG_MESSAGE_SIGNATURE =
  "(s(i)<LogLevel,level>sssI(L)<TimePoint,ns>(L)<TimePoint,ns>)<LogMessage,source,level,category,location,message,id,date,systemDate>";

/** qi::LogLevel numbers. */
export const ROBOT_LOG_LEVELS = { fatal: 1, error: 2, warning: 3, info: 4, verbose: 5, debug: 6 } as const;
export type RobotLogLevel = keyof typeof ROBOT_LOG_LEVELS;

export interface RobotLoggerOptions {
  /** The category of every message (default "qimessaging"). */
  category?: string;
  /** The `source` field (default "qimessaging:<pid>"), as libqi puts file:function there. */
  source?: string;
  /** Messages kept while a send is under way or the LogManager is away (default 1000). */
  maxQueued?: number;
  /** The LogManager's service name (default "LogManager"). */
  service?: string;
}

export interface RobotLogger {
  fatal(message: string): void;
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  verbose(message: string): void;
  debug(message: string): void;
  log(level: RobotLogLevel | number, message: string, category?: string): void;
  /** Resolves when every queued message was handed to the LogManager (or dropped). */
  flush(): Promise<void>;
  /** Messages dropped because the queue was full or the LogManager could not be reached. */
  readonly dropped: number;
}

let nextId = 1;

/** One LogMessage as the LogManager takes it. */
export function logMessage(level: number, category: string, message: string, source = "qimessaging"): Struct {
  const ns = BigInt(Date.now()) * 1_000_000n;
  return new Struct("LogMessage", {
    source,
    level: new Struct("LogLevel", { level }),
    category,
    location: "",
    message,
    id: nextId++ >>> 0,
    date: new Struct("TimePoint", { ns }),
    systemDate: new Struct("TimePoint", { ns }),
  });
}

/** A logger whose messages go to the LogManager reached through `session`. */
export function robotLogger(session: Session, options: RobotLoggerOptions = {}): RobotLogger {
  const category = options.category ?? "qimessaging";
  const source = options.source ?? `qimessaging:${typeof process === "undefined" ? 0 : process.pid}`;
  const maxQueued = options.maxQueued ?? 1000;
  const service = options.service ?? "LogManager";
  const queue: Struct[] = [];
  let dropped = 0;
  let sending: Promise<void> | undefined;

  const send = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      try {
        const manager = await session.service(service);
        await manager.call("log", batch);
      } catch {
        dropped += batch.length;
      }
    }
  };
  const schedule = () => {
    sending ??= Promise.resolve()
      .then(send)
      .finally(() => {
        sending = undefined;
        if (queue.length > 0) schedule();
      });
  };
  const log = (level: RobotLogLevel | number, message: string, cat = category) => {
    const n = typeof level === "number" ? level : ROBOT_LOG_LEVELS[level];
    queue.push(logMessage(n, cat, message, source));
    if (queue.length > maxQueued) dropped += queue.splice(0, queue.length - maxQueued).length;
    schedule();
  };
  return {
    fatal: (m) => log("fatal", m),
    error: (m) => log("error", m),
    warning: (m) => log("warning", m),
    info: (m) => log("info", m),
    verbose: (m) => log("verbose", m),
    debug: (m) => log("debug", m),
    log,
    async flush() {
      while (sending) await sending;
    },
    get dropped() {
      return dropped;
    },
  };
}
